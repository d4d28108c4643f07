package dev.keyauth.filter;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.store.ApiKey;
import org.junit.jupiter.api.Test;

import org.springframework.cloud.gateway.filter.headers.HttpHeadersFilter;
import org.springframework.cloud.gateway.filter.headers.RemoveHopByHopHeadersFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;

class IdentityHeadersTest {

	private static final ApiKey KEY = new ApiKey(UUID.fromString("00000000-0000-4000-8000-000000000002"),
			"sk_live_abcd", "acme", null, List.of("orders:read"), Map.of(), Instant.EPOCH, null, null, null);

	private static final ApiKey NO_SCOPES = new ApiKey(KEY.id(), KEY.keyStart(), "acme", null, List.of(), Map.of(),
			Instant.EPOCH, null, null, null);

	private static final ApiKeyCredential CREDENTIAL = new ApiKeyCredential("sk_live_abcd", List.of("X-API-Key"), null);

	private final IdentityHeaders identity = new IdentityHeaders("X-Consumer-Id", "X-Api-Key-Id", "X-Api-Key-Scopes",
			true);

	private static MockServerWebExchange onRoute(String uri) {
		MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/orders")
			.header("X-API-Key", "sk_live_abcd")
			.header("X-Consumer-Id", "forged")
			.header("X-Anonymous-Consumer", "true")
			.header("Accept", "*/*"));
		exchange.getAttributes()
			.put(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR,
					Route.async().id("r").uri(uri).predicate((e) -> true).build());
		return exchange;
	}

	/** What the filter does: rewrite the exchange, then put the key on it. */
	private ServerWebExchange authenticate(ServerWebExchange exchange, ApiKey key) {
		ServerWebExchange forwarded = this.identity.authenticated(exchange, CREDENTIAL, key);
		forwarded.getAttributes().put(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR, key);
		return forwarded;
	}

	/** The headers the gateway sends, with one of its own header filters ahead of this one. */
	private HttpHeaders sent(ServerWebExchange exchange) {
		return HttpHeadersFilter.filterRequest(List.of(new RemoveHopByHopHeadersFilter(), this.identity), exchange);
	}

	@Test
	void onAnHttpRouteTheIdentityIsWrittenWhereTheRequestIsSent() {
		ServerWebExchange forwarded = authenticate(onRoute("http://downstream"), KEY);
		HttpHeaders request = forwarded.getRequest().getHeaders();
		// Route filters see neither the client's copies nor the credential, nor yet the identity.
		assertThat(request.containsHeader("X-Consumer-Id")).isFalse();
		assertThat(request.containsHeader("X-Anonymous-Consumer")).isFalse();
		assertThat(request.containsHeader("X-API-Key")).isFalse();
		HttpHeaders sent = sent(forwarded);
		assertThat(sent.get("X-Consumer-Id")).containsExactly("acme");
		assertThat(sent.get("X-Api-Key-Id")).containsExactly(KEY.id().toString());
		assertThat(sent.get("X-Api-Key-Scopes")).containsExactly("orders:read");
		assertThat(sent.containsHeader("X-Anonymous-Consumer")).isFalse();
		assertThat(sent.containsHeader("X-API-Key")).isFalse();
		assertThat(sent.get("Accept")).containsExactly("*/*");
	}

	@Test
	void everySchemeThroughTheHeaderFiltersIsWrittenLate() {
		for (String uri : List.of("http://d", "https://d", "ws://d", "wss://d", "lb://d")) {
			assertThat(IdentityHeaders.sentThroughHeaderFilters(onRoute(uri))).as(uri).isTrue();
		}
		assertThat(IdentityHeaders.sentThroughHeaderFilters(onRoute("forward:/local"))).isFalse();
		assertThat(IdentityHeaders.sentThroughHeaderFilters(MockServerWebExchange.from(MockServerHttpRequest.get("/"))))
			.isFalse();
	}

	@Test
	void aForwardRouteGetsTheIdentityOnTheRequestItself() {
		// forward: hands the exchange to a local handler; no header filter runs on the way.
		ServerWebExchange forwarded = authenticate(onRoute("forward:/local"), KEY);
		HttpHeaders request = forwarded.getRequest().getHeaders();
		assertThat(request.get("X-Consumer-Id")).containsExactly("acme");
		assertThat(request.get("X-Api-Key-Id")).containsExactly(KEY.id().toString());
		assertThat(request.containsHeader("X-Anonymous-Consumer")).isFalse();
		assertThat(request.containsHeader("X-API-Key")).isFalse();
	}

	@Test
	void whatARouteFilterAddedUnderAnIdentityNameIsReplaced() {
		ServerWebExchange forwarded = authenticate(onRoute("http://downstream"), NO_SCOPES);
		ServerWebExchange changedByRouteFilter = forwarded.mutate()
			.request((request) -> request.headers((headers) -> {
				headers.set("X-Consumer-Id", "route-filter");
				headers.set("X-Api-Key-Scopes", "admin");
				headers.set("X-Anonymous-Consumer", "true");
			}))
			.build();
		HttpHeaders sent = sent(changedByRouteFilter);
		assertThat(sent.get("X-Consumer-Id")).containsExactly("acme");
		assertThat(sent.containsHeader("X-Api-Key-Scopes")).isFalse();
		assertThat(sent.containsHeader("X-Anonymous-Consumer")).isFalse();
	}

	@Test
	void anAnonymousConsumerIsWrittenLateToo() {
		ServerWebExchange forwarded = this.identity.anonymous(onRoute("http://downstream"), "guest");
		assertThat(forwarded.getRequest().getHeaders().containsHeader("X-Consumer-Id")).isFalse();
		HttpHeaders sent = sent(forwarded);
		assertThat(sent.get("X-Consumer-Id")).containsExactly("guest");
		assertThat(sent.get("X-Anonymous-Consumer")).containsExactly("true");
		// A route filter's key identity is not the anonymous consumer's.
		HttpHeaders afterRouteFilter = sent(forwarded.mutate()
			.request((request) -> request.headers((headers) -> {
				headers.set("X-Api-Key-Id", "route-filter");
				headers.set("X-Api-Key-Scopes", "admin");
			}))
			.build());
		assertThat(afterRouteFilter.get("X-Consumer-Id")).containsExactly("guest");
		assertThat(afterRouteFilter.containsHeader("X-Api-Key-Id")).isFalse();
		assertThat(afterRouteFilter.containsHeader("X-Api-Key-Scopes")).isFalse();
	}

	@Test
	void underscoreSpellingsOfTheIdentityHeadersAreRemovedAndOtherHeadersKept() {
		MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/orders")
			.header("X_Consumer_Id", "forged")
			.header("x-api_key-id", "forged")
			.header("X_Anonymous_Consumer", "true")
			.header("X_Request_Id", "kept"));
		HttpHeaders forwarded = this.identity.withoutSpoofedIdentity(exchange).getRequest().getHeaders();
		assertThat(forwarded.headerNames()).containsExactly("X_Request_Id");

		MockServerWebExchange unrelated = MockServerWebExchange
			.from(MockServerHttpRequest.get("/orders").header("X_Request_Id", "kept"));
		assertThat(this.identity.withoutSpoofedIdentity(unrelated).getRequest().getHeaders().getFirst("X_Request_Id"))
			.isEqualTo("kept");
	}

	@Test
	void aConfiguredNameWithAnUnderscoreLosesItsDashSpellingToo() {
		IdentityHeaders underscored = new IdentityHeaders("X_Consumer", "X-Key-Id", "X-Scopes", true);
		MockServerWebExchange exchange = MockServerWebExchange
			.from(MockServerHttpRequest.get("/orders").header("x-consumer", "forged").header("Accept", "*/*"));
		assertThat(underscored.withoutSpoofedIdentity(exchange).getRequest().getHeaders().headerNames())
			.containsExactly("Accept");
	}

	@Test
	void requestsWithoutAnIdentityPassUnchanged() {
		MockServerWebExchange exchange = onRoute("http://downstream");
		HttpHeaders input = new HttpHeaders();
		input.add("Accept", "*/*");
		assertThat(this.identity.filter(input, exchange)).isSameAs(input);
	}

	@Test
	void theRequestsOwnReadOnlyHeadersAreCopiedNotChanged() {
		// Should this be the only header filter, its input is the request's read-only map.
		ServerWebExchange forwarded = authenticate(onRoute("http://downstream"), KEY);
		HttpHeaders sent = HttpHeadersFilter.filterRequest(List.of(this.identity), forwarded);
		assertThat(sent.get("X-Consumer-Id")).containsExactly("acme");
		assertThat(forwarded.getRequest().getHeaders().containsHeader("X-Consumer-Id")).isFalse();
	}

}
