package dev.keyauth.filter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;

import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.web.server.ServerWebExchange;

/**
 * Each route's {@link RouteKeyAuthPolicy}, parsed from its metadata once and kept for as long as
 * the gateway keeps the route object (weak keys: a route refresh simply parses the new ones).
 */
public class RouteKeyAuthPolicies {

	private final Cache<Route, RouteKeyAuthPolicy> policies = Caffeine.newBuilder()
		.weakKeys()
		.executor(Runnable::run)
		.build();

	/**
	 * The policy of the route this exchange matched: the one the authentication filter already
	 * resolved for it when there is one, so later filters do not look it up again.
	 */
	public RouteKeyAuthPolicy forExchange(ServerWebExchange exchange) {
		RouteKeyAuthPolicy resolved = exchange.getAttribute(ApiKeyAuthenticationFilter.KEY_AUTH_POLICY_ATTR);
		return (resolved != null) ? resolved : forRoute(exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR));
	}

	/** The id of the route this exchange matched, or an empty string. */
	public static String routeId(ServerWebExchange exchange) {
		Route route = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
		return (route != null) ? route.getId() : "";
	}

	public RouteKeyAuthPolicy forRoute(@Nullable Route route) {
		if (route == null) {
			return RouteKeyAuthPolicy.REQUIRED;
		}
		return this.policies.get(route, RouteKeyAuthPolicy::of);
	}

}
