package dev.keyauth.filter;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import dev.keyauth.store.RateLimit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Flux;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.cloud.gateway.event.RefreshRoutesResultEvent;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.route.RouteLocator;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(OutputCaptureExtension.class)
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
	void flatMetadataIsReadLikeNestedMetadata() {
		RouteKeyAuthPolicy policy = RouteKeyAuthPolicy.of(route(Map.of("keyauth.scopes", "a,b", "keyauth.query-param",
				"k", "keyauth.rate-limit.requests-per-second", 5, "keyauth.rate-limit.burst", 8, "other", "x")));
		assertThat(policy).isEqualTo(new RouteKeyAuthPolicy(true, List.of("a", "b"), null, "k", new RateLimit(5, 8)));
		assertThat(RouteKeyAuthPolicy.of(route(Map.of("keyauth", Map.of("enabled", " FALSE ")))))
			.isEqualTo(RouteKeyAuthPolicy.DISABLED);
	}

	@ParameterizedTest
	@MethodSource("unreadableSettings")
	void settingsThatCannotBeReadMakeTheRouteMisconfiguredNeverLaxer(Object keyauth, String problem) {
		RouteKeyAuthPolicy policy = RouteKeyAuthPolicy.of(route(Map.of("keyauth", keyauth)));
		assertThat(policy.enabled()).isTrue();
		assertThat(policy.misconfiguration()).startsWith("route 'r': ").contains(problem);
	}

	static Stream<Arguments> unreadableSettings() {
		return Stream.of(Arguments.of(Map.of("scope", "orders:admin"), "unknown setting 'keyauth.scope'"),
				Arguments.of(Map.of("scopes", Map.of("read", true)), "not a map with the key 'read'"),
				Arguments.of(Map.of("scopes", List.of("orders read", "a\"b")), "'a\"b', which no key can carry"),
				Arguments.of(Map.of("scopes", List.of(List.of("a"))), "not a list of lists"),
				Arguments.of(Map.of("enabled", "no"), "must be true or false"),
				Arguments.of(Map.of("enabled", 0), "must be true or false"),
				Arguments.of("false", "must hold settings"),
				Arguments.of(Map.of("anonymous-consumer", "g\u00e4st"), "printable ASCII"),
				Arguments.of(Map.of("anonymous-consumer", List.of("a", "b")), "must be a single value"),
				Arguments.of(Map.of("query-param", "a&b"), "query parameter name"),
				Arguments.of(Map.of("rate-limit", 5), "must hold requests-per-second"),
				Arguments.of(Map.of("rate-limit", Map.of("burst", 5)), "needs requests-per-second"),
				Arguments.of(Map.of("rate-limit", Map.of("requests-per-second", "x")), "integer from 1 to 100000"),
				Arguments.of(Map.of("rate-limit", Map.of("requests-per-second", 0)), "integer from 1 to 100000"),
				Arguments.of(Map.of("rate-limit", Map.of("requests-per-second", 5, "burst", 2)), "burst must be at least"),
				Arguments.of(Map.of("rate-limit", Map.of("requests-per-second", 5, "brust", 9)),
						"unknown setting 'keyauth.rate-limit.brust'"));
	}

	@Test
	void theGatewaysRouteRefreshHasEveryRoutesSettingsReadAndReportedAtOnce(CapturedOutput output) {
		RouteKeyAuthPolicies policies = new RouteKeyAuthPolicies();
		Route good = route(Map.of("keyauth", Map.of("scopes", "a")));
		Route misspelt = Route.async().id("misspelt").uri("http://downstream").predicate((e) -> true)
			.metadata(Map.of("keyauth", Map.of("scope", "a"))).build();
		RouteLocator locator = () -> Flux.just(good, misspelt);
		new RoutePolicyCheck(policies).onApplicationEvent(new RefreshRoutesResultEvent(locator));
		assertThat(output).contains("Invalid key-auth settings in the metadata of route 'misspelt': unknown setting "
				+ "'keyauth.scope'");
		// Read once: the filter's later lookups find what the check read, and log nothing more.
		int logged = output.getAll().split("route 'misspelt'", -1).length;
		assertThat(policies.forRoute(misspelt).misconfiguration()).isNotNull();
		assertThat(policies.forRoute(good).requiredScopes()).containsExactly("a");
		assertThat(output.getAll().split("route 'misspelt'", -1)).hasSize(logged);
		// A failed refresh has no new routes to read.
		AtomicBoolean read = new AtomicBoolean();
		RouteLocator failed = () -> Flux.defer(() -> {
			read.set(true);
			return Flux.just(good);
		});
		new RoutePolicyCheck(policies).onApplicationEvent(new RefreshRoutesResultEvent(failed, new IllegalStateException()));
		assertThat(read).isFalse();
	}

	@Test
	void policiesAreParsedOncePerRouteObject() {
		RouteKeyAuthPolicies policies = new RouteKeyAuthPolicies();
		Route route = route(Map.of("keyauth", Map.of("scopes", "a")));
		assertThat(policies.forRoute(route)).isSameAs(policies.forRoute(route));
	}

	@Test
	void aRouteObjectWithAnIdSeenBeforeHasItsOwnSettingsReadOnce(CapturedOutput output) {
		RouteKeyAuthPolicies policies = new RouteKeyAuthPolicies();
		Route before = route(Map.of("keyauth", Map.of("scopes", "a")));
		Route refreshed = route(Map.of("keyauth", Map.of("scopes", "b")));
		Route misspelt = route(Map.of("keyauth", Map.of("scope", "c")));
		assertThat(before.getId()).isEqualTo(refreshed.getId()).isEqualTo(misspelt.getId());
		RouteKeyAuthPolicy first = policies.forRoute(before);
		assertThat(first.requiredScopes()).containsExactly("a");
		assertThat(policies.forRoute(refreshed).requiredScopes()).containsExactly("b");
		// Two live routes with one id, taken in turns: each keeps its own policy, read once.
		for (int i = 0; i < 3; i++) {
			assertThat(policies.forRoute(before)).isSameAs(first);
			assertThat(policies.forRoute(misspelt).misconfiguration()).isNotNull();
		}
		assertThat(output.getAll().split("unknown setting 'keyauth.scope'", -1)).hasSize(2);
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
