package dev.keyauth.filter;

import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;

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

	// Route ids indexed before the index stops growing: far more routes than any gateway has, and
	// a bound on what ids that come and go (a custom route locator's) can leave behind.
	private static final int MAX_INDEXED_IDS = 10_000;

	private final Cache<Route, RouteKeyAuthPolicy> policies = Caffeine.newBuilder()
		.weakKeys()
		.executor(Runnable::run)
		.build();

	/**
	 * The policy last resolved for each route id, with the route object it was read from. Every
	 * request reads it: one lookup by a string whose hash is kept, where the weak-keyed cache
	 * does its upkeep on reads (profiled at about a tenth of the filter's own time). The cache
	 * stays the authority: a route object the index does not hold (a refresh, two routes with
	 * one id) is looked up there, so each object's settings are still read, and any
	 * misconfiguration reported, once.
	 */
	private final ConcurrentHashMap<String, Resolved> byId = new ConcurrentHashMap<>();

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
		Resolved last = this.byId.get(route.getId());
		if (last != null && last.route().get() == route) {
			return last.policy();
		}
		RouteKeyAuthPolicy policy = this.policies.get(route, RouteKeyAuthPolicy::of);
		if (last != null || this.byId.size() < MAX_INDEXED_IDS) {
			// Weak, like the cache: the index must not keep a refreshed-away route alive.
			this.byId.put(route.getId(), new Resolved(new WeakReference<>(route), policy));
		}
		return policy;
	}

	private record Resolved(WeakReference<Route> route, RouteKeyAuthPolicy policy) {
	}

}
