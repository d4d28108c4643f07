package dev.keyauth.filter;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.webflux.autoconfigure.WebFluxProperties;
import org.springframework.cloud.gateway.event.RefreshRoutesResultEvent;
import org.springframework.cloud.gateway.handler.AsyncPredicate;
import org.springframework.cloud.gateway.handler.predicate.HostRoutePredicateFactory;
import org.springframework.cloud.gateway.handler.predicate.MethodRoutePredicateFactory;
import org.springframework.cloud.gateway.handler.predicate.PathRoutePredicateFactory;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.route.RouteLocator;
import org.springframework.http.HttpMethod;
import org.springframework.web.server.ServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routes built with the gateway's own predicate factories, combined as its route locator combines
 * a definition's predicates.
 */
@ExtendWith(OutputCaptureExtension.class)
class TrailingSlashCheckTest {

	private final RouteKeyAuthPolicies policies = new RouteKeyAuthPolicies();

	private static AsyncPredicate<ServerWebExchange> path(String... patterns) {
		PathRoutePredicateFactory.Config config = new PathRoutePredicateFactory.Config();
		config.setPatterns(List.of(patterns));
		return new PathRoutePredicateFactory(new WebFluxProperties()).applyAsync(config);
	}

	private static AsyncPredicate<ServerWebExchange> get() {
		MethodRoutePredicateFactory.Config config = new MethodRoutePredicateFactory.Config();
		config.setMethods(HttpMethod.GET);
		return new MethodRoutePredicateFactory().applyAsync(config);
	}

	private static AsyncPredicate<ServerWebExchange> host(String pattern) {
		HostRoutePredicateFactory.Config config = new HostRoutePredicateFactory.Config();
		config.setPatterns(List.of(pattern));
		return new HostRoutePredicateFactory().applyAsync(config);
	}

	private static Route route(String id, AsyncPredicate<ServerWebExchange> predicate, Map<String, Object> keyauth) {
		return Route.async().id(id).uri("http://orders").asyncPredicate(predicate)
			.metadata(keyauth.isEmpty() ? Map.of() : Map.of("keyauth", keyauth)).build();
	}

	private List<String> warnings(Route... routes) {
		return TrailingSlashCheck.warnings(List.of(routes), this.policies::forRoute);
	}

	private static final Map<String, Object> ADMIN = Map.of("scopes", List.of("orders:admin"));

	@Test
	void anExactRouteThatAsksForAScopeAheadOfAGeneralOneIsReported() {
		List<String> warnings = warnings(route("orders-admin", path("/orders/admin"), ADMIN),
				route("orders", path("/orders/**"), Map.of()));
		assertThat(warnings).singleElement().asString()
			.startsWith("Route 'orders-admin' asks for more than route 'orders', which is where '/orders/admin/' goes")
			.contains("the Path pattern '/orders/admin' matches '/orders/admin' but not '/orders/admin/'");
	}

	@Test
	void theOtherWayRoundTooWhenThePatternEndsWithASlash() {
		assertThat(warnings(route("orders-admin", path("/orders/admin/"), ADMIN),
				route("orders", path("/orders/**"), Map.of())))
			.singleElement().asString().contains("which is where '/orders/admin' goes");
	}

	@Test
	void variablesAndSingleSegmentWildcardsAreSampled() {
		assertThat(warnings(route("order", get().and(path("/orders/{id}")), Map.of()),
				route("public", path("/orders/**"), Map.of("enabled", false))))
			.singleElement().asString().contains("which is where '/orders/x/' goes");
		assertThat(warnings(route("exports", path("/orders/*.csv"), ADMIN), route("orders", path("/orders/**"), Map.of())))
			.singleElement().asString().contains("which is where '/orders/x.csv/' goes");
	}

	@Test
	void aRouteWithoutAPathPatternIsTakenToMatchAnyPath() {
		assertThat(warnings(route("orders-admin", path("/orders/admin"), ADMIN),
				route("anything", host("**.example.com"), Map.of("enabled", false))))
			.singleElement().asString().contains("than route 'anything'");
	}

	@Test
	void nothingIsReportedWhereBothSpellingsAreCoveredOrLeadNowhereLess() {
		Route general = route("orders", path("/orders/**"), Map.of());
		// Both spellings in the route itself, or a multi-segment wildcard, which matches both.
		assertThat(warnings(route("a", path("/orders/admin/**"), ADMIN), general)).isEmpty();
		assertThat(warnings(route("a", path("/orders/admin", "/orders/admin/"), ADMIN), general)).isEmpty();
		assertThat(warnings(route("a", path("/orders/admin/{*rest}"), ADMIN), general)).isEmpty();
		// The other spelling reaches a route that asks for as much, or for more, or nothing.
		assertThat(warnings(route("a", path("/orders/admin"), ADMIN), route("b", path("/orders/**"), ADMIN))).isEmpty();
		assertThat(warnings(route("a", path("/orders/admin"), Map.of()), general)).isEmpty();
		assertThat(warnings(route("a", path("/orders/admin"), ADMIN))).isEmpty();
		// A route without key auth asks for nothing that could be got around.
		assertThat(warnings(route("status", path("/status"), Map.of("enabled", false)), general)).isEmpty();
		// A variable whose expression the sample does not fit is not checked.
		assertThat(warnings(route("a", path("/orders/{id:[0-9]+}"), ADMIN), general)).isEmpty();
	}

	@Test
	void theRoutesAreCheckedWhenTheGatewayLoadsThem(CapturedOutput output) {
		Route admin = route("orders-admin", path("/orders/admin"), ADMIN);
		Route general = route("orders", path("/orders/**"), Map.of());
		RouteLocator locator = () -> Flux.just(admin, general);
		RoutePolicyCheck check = new RoutePolicyCheck(this.policies);
		check.onApplicationEvent(new RefreshRoutesResultEvent(locator));
		assertThat(output).contains("WARN").contains("Route 'orders-admin' asks for more than route 'orders'");
		// Said once while it holds, however often the routes are refreshed; again if it returns.
		check.onApplicationEvent(new RefreshRoutesResultEvent(locator));
		assertThat(output.getAll().split("asks for more than route", -1)).hasSize(2);
		RouteLocator fixed = () -> Flux.just(general);
		check.onApplicationEvent(new RefreshRoutesResultEvent(fixed));
		check.onApplicationEvent(new RefreshRoutesResultEvent(locator));
		assertThat(output.getAll().split("asks for more than route", -1)).hasSize(3);
	}

}
