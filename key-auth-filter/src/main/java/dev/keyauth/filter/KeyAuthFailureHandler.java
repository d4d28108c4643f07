package dev.keyauth.filter;

import dev.keyauth.authentication.KeyAuthenticationException;
import reactor.core.publisher.Mono;

import org.springframework.web.server.ServerWebExchange;

/**
 * Writes the response for a request that could not be authenticated, in the spirit of Spring
 * Security's {@code ServerAuthenticationFailureHandler}.
 */
@FunctionalInterface
public interface KeyAuthFailureHandler {

	Mono<Void> onAuthenticationFailure(ServerWebExchange exchange, KeyAuthenticationException failure);

}
