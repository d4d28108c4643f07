package dev.keyauth.filter;

import reactor.core.publisher.Mono;

import org.springframework.web.server.ServerWebExchange;

/**
 * Finds the API key in a request, in the spirit of Spring Security's
 * {@code ServerAuthenticationConverter}.
 * <p>
 * Completes empty when the request carries no key, with the credential when it carries exactly
 * one, and signals {@link dev.keyauth.authentication.InvalidApiKeyException} when what it carries
 * cannot be a key (an empty value, or two different keys).
 */
@FunctionalInterface
public interface ApiKeyCredentialConverter {

	Mono<ApiKeyCredential> convert(ServerWebExchange exchange);

}
