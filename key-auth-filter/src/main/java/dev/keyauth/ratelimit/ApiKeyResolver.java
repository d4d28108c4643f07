package dev.keyauth.ratelimit;

import dev.keyauth.filter.ApiKeyAuthenticationFilter;
import dev.keyauth.filter.IdentityHeaders;
import dev.keyauth.store.ApiKey;
import reactor.core.publisher.Mono;

import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.web.server.ServerWebExchange;

/**
 * Lets Spring Cloud Gateway's own {@code RequestRateLimiter} route filter count per API key:
 * resolves the authenticated key's id, or {@code anonymous:<consumer>} for a request a route let
 * through as its anonymous consumer (one bucket for all of them, as the plugin's own route limits
 * do). On a route that does not authenticate it resolves nothing, which {@code RequestRateLimiter}
 * refuses by default ({@code deny-empty-key}): a limit meant per key is not silently skipped.
 * <p>
 * Auto-configured as the gateway's default key resolver (bean {@value #BEAN_NAME}) unless the
 * application has one of its own, so {@code RequestRateLimiter} needs no {@code key-resolver}
 * argument. The key authentication filter runs before every route filter, so the key is there.
 */
public class ApiKeyResolver implements KeyResolver {

	/** The bean name, for {@code key-resolver: "#{@apiKeyResolver}"}. */
	public static final String BEAN_NAME = "apiKeyResolver";

	@Override
	public Mono<String> resolve(ServerWebExchange exchange) {
		ApiKey key = exchange.getAttribute(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR);
		if (key != null) {
			return Mono.just(key.id().toString());
		}
		String anonymous = IdentityHeaders.anonymousConsumer(exchange);
		return (anonymous != null) ? Mono.just("anonymous:" + anonymous) : Mono.empty();
	}

}
