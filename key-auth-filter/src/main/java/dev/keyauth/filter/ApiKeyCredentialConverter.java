package dev.keyauth.filter;

import org.jspecify.annotations.Nullable;
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

	/**
	 * Where a request to a route without key auth carries a key all the same, so that the key
	 * can be removed before the request is forwarded; {@code null} if it carries none. Called
	 * for every request to such a route, so it must answer at once, without I/O.
	 * <p>
	 * The filter removes only keys of this gateway (by their prefix), so that other tokens
	 * reach the downstream services they are meant for. The default answers the credential
	 * {@link #convert} has already found, and nothing for a request {@code convert} refuses or
	 * answers later; the default converter also finds the keys of a request that carries two
	 * different ones.
	 */
	default @Nullable ApiKeyCredential keysOnRouteWithoutKeyAuth(ServerWebExchange exchange) {
		return ReadyValues.now(convert(exchange));
	}

}
