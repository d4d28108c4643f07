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

	/**
	 * Where a request to a route without key auth carries a key all the same, so that the key
	 * can be removed before the request is forwarded; empty if it carries none. Called for every
	 * request to such a route: answer with a Mono that is already complete
	 * ({@code Mono.empty()}, {@code Mono.just(..)}) wherever possible, which the filter reads
	 * without an operator chain. An answer still to come is waited for, so that a key found later
	 * is not forwarded either; an error counts as no key.
	 * <p>
	 * The filter removes only keys of this gateway (by their prefix), so that other tokens
	 * reach the downstream services they are meant for. The default answers what {@link #convert}
	 * answers; the default converter also finds the keys of a request that carries two
	 * different ones, which {@code convert} refuses.
	 */
	default Mono<ApiKeyCredential> keysOnRouteWithoutKeyAuth(ServerWebExchange exchange) {
		return convert(exchange);
	}

}
