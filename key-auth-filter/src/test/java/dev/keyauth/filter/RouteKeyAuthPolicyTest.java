package dev.keyauth.filter;

import java.net.URI;
import java.util.List;
import java.util.Map;

import dev.keyauth.store.RateLimit;
import org.junit.jupiter.api.Test;

import org.springframework.cloud.gateway.route.Route;

import static org.assertj.core.api.Assertions.assertThat;

class RouteKeyAuthPolicyTest {

	private static Route route(Map<String, Object> metadata) {
		return Route.async().id("r").uri("http://downstream").predicate((e) -> true).metadata(metadata).build();
	}

	@Test
	void readsEverySettingFromNestedMetadata() {
		RouteKeyAuthPolicy policy = RouteKeyAuthPolicy.of(route(Map.of("keyauth",
				Map.of("scopes", Map.of("0", "a", "1", "b"), "anonymous-consumer", "guest", "query-param", "api_key",
						"rate-limit", Map.of("requests-per-second", "5", "burst", "8")))));
		assertThat(policy.enabled()).isTrue();
		assertThat(policy.requiredScopes()).containsExactly("a", "b");
		assertThat(policy.anonymousConsumer()).isEqualTo("guest");
		assertThat(policy.queryParam()).isEqualTo("api_key");
		assertThat(policy.rateLimit()).isEqualTo(new RateLimit(5, 8));
	}

	@Test
	void acceptsListsAndCommaSeparatedScopes() {
		assertThat(RouteKeyAuthPolicy.of(route(Map.of("keyauth", Map.of("scopes", List.of("a", "b"))))).requiredScopes())
			.containsExactly("a", "b");
		assertThat(RouteKeyAuthPolicy.of(route(Map.of("keyauth", Map.of("scopes", "a, b c")))).requiredScopes())
			.containsExactly("a", "b", "c");
	}

	@Test
	void anInvalidRateLimitIsIgnoredNotFatal() {
		assertThat(RouteKeyAuthPolicy.of(route(Map.of("keyauth", Map.of("rate-limit", Map.of("requests-per-second", "x")))))
			.rateLimit()).isNull();
	}

	@Test
	void policiesAreParsedOncePerRouteObject() {
		RouteKeyAuthPolicies policies = new RouteKeyAuthPolicies();
		Route route = route(Map.of("keyauth", Map.of("scopes", "a")));
		assertThat(policies.forRoute(route)).isSameAs(policies.forRoute(route));
	}

	@Test
	void laterFiltersReuseThePolicyTheAuthenticationFilterResolved() {
		RouteKeyAuthPolicies policies = new RouteKeyAuthPolicies();
		org.springframework.mock.web.server.MockServerWebExchange exchange = org.springframework.mock.web.server.MockServerWebExchange
			.from(org.springframework.mock.http.server.reactive.MockServerHttpRequest.get("/"));
		exchange.getAttributes()
			.put(org.springframework.cloud.gateway.support.ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR,
					route(Map.of("keyauth", Map.of("scopes", "a"))));
		assertThat(policies.forExchange(exchange).requiredScopes()).containsExactly("a");
		RouteKeyAuthPolicy resolved = new RouteKeyAuthPolicy(true, List.of("b"), null, null, null);
		exchange.getAttributes().put(ApiKeyAuthenticationFilter.KEY_AUTH_POLICY_ATTR, resolved);
		assertThat(policies.forExchange(exchange)).isSameAs(resolved);
		assertThat(RouteKeyAuthPolicies.routeId(exchange)).isEqualTo("r");
	}

	@Test
	void removingTheQueryKeyKeepsTheRestOfTheQueryExactly() {
		URI uri = URI.create("http://gw/path?b=2&api_key=SECRET&a=%20x%2By&api%5Fkey=SECRET&z&c=");
		assertThat(IdentityHeaders.withoutQueryParam(uri, "api_key").toString())
			.isEqualTo("http://gw/path?b=2&a=%20x%2By&z&c=");
		assertThat(IdentityHeaders.withoutQueryParam(URI.create("http://gw/p?api_key=S"), "api_key").toString())
			.isEqualTo("http://gw/p");
		assertThat(IdentityHeaders.withoutQueryParam(URI.create("http://gw/p"), "api_key").toString())
			.isEqualTo("http://gw/p");
	}

}
