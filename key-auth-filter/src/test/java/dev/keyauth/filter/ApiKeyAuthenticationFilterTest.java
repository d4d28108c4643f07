package dev.keyauth.filter;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import dev.keyauth.authentication.ApiKeyAuthenticator;
import dev.keyauth.authentication.InvalidApiKeyException;
import dev.keyauth.authentication.KeyAuthUnavailableException;
import dev.keyauth.store.ApiKey;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;

class ApiKeyAuthenticationFilterTest {

	private static final String GOOD = "sk_live_good";

	private static final ApiKey KEY = new ApiKey(UUID.fromString("00000000-0000-4000-8000-000000000001"),
			"sk_live_good", "acme", "ci", List.of("orders:read", "orders:write"), Map.of(), Instant.EPOCH, null, null,
			null);

	private final AtomicReference<ServerWebExchange> forwarded = new AtomicReference<>();

	private final GatewayFilterChain chain = (exchange) -> {
		this.forwarded.set(exchange);
		return Mono.empty();
	};

	private ApiKeyAuthenticator authenticator = (key) -> GOOD.equals(key) ? Mono.just(KEY)
			: Mono.error(InvalidApiKeyException.INSTANCE);

	private ApiKeyCredentialConverter converter = new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key");

	private ApiKeyAuthenticationFilter filter() {
		return new ApiKeyAuthenticationFilter(this.converter, this.authenticator,
				new JsonKeyAuthFailureHandler("api", "Send it somewhere.", Duration.ofSeconds(7), new JsonMapper()),
				new IdentityHeaders("X-Consumer-Id", "X-Api-Key-Id", "X-Api-Key-Scopes", true));
	}

	private MockServerWebExchange run(MockServerHttpRequest.BaseBuilder<?> request) {
		return run(request, null);
	}

	private MockServerWebExchange run(MockServerHttpRequest.BaseBuilder<?> request, Route route) {
		MockServerWebExchange exchange = MockServerWebExchange.from(request);
		if (route != null) {
			exchange.getAttributes().put(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR, route);
		}
		StepVerifier.create(filter().filter(exchange, this.chain)).verifyComplete();
		return exchange;
	}

	private static Route route(Map<String, Object> metadata) {
		return Route.async().id("r").uri("http://downstream").predicate((e) -> true).metadata(metadata).build();
	}

	@Test
	void aValidKeyIsForwardedWithTheIdentityAndWithoutTheCredential() {
		run(MockServerHttpRequest.get("/orders").header("Authorization", "Bearer " + GOOD).header("Accept", "*/*"));
		ServerWebExchange out = this.forwarded.get();
		HttpHeaders headers = out.getRequest().getHeaders();
		assertThat(headers.getFirst("X-Consumer-Id")).isEqualTo("acme");
		assertThat(headers.getFirst("X-Api-Key-Id")).isEqualTo(KEY.id().toString());
		assertThat(headers.getFirst("X-Api-Key-Scopes")).isEqualTo("orders:read,orders:write");
		assertThat(headers.containsHeader("Authorization")).isFalse();
		assertThat(headers.getFirst("Accept")).isEqualTo("*/*");
		assertThat((ApiKey) out.getAttribute(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR)).isEqualTo(KEY);
	}

	@Test
	void spoofedIdentityHeadersAreReplaced() {
		run(MockServerHttpRequest.get("/")
			.header("X-API-Key", GOOD)
			.header("X-Consumer-Id", "admin")
			.header("x-api-key-id", "forged")
			.header("X-Api-Key-Scopes", "everything"));
		HttpHeaders headers = this.forwarded.get().getRequest().getHeaders();
		assertThat(headers.get("X-Consumer-Id")).containsExactly("acme");
		assertThat(headers.get("X-Api-Key-Id")).containsExactly(KEY.id().toString());
		assertThat(headers.get("X-Api-Key-Scopes")).containsExactly("orders:read,orders:write");
		assertThat(headers.containsHeader("X-API-Key")).isFalse();
	}

	@Test
	void aKeyAnsweredLaterIsForwardedExactlyLikeACacheHit() {
		// A cache hit is decided without an operator chain; an answer still to come (here: not a
		// scalar Mono) takes the general path. Both must forward the same request.
		MockServerHttpRequest.BaseBuilder<?> request = MockServerHttpRequest.get("/orders?x=1")
			.header("Authorization", "Bearer " + GOOD)
			.header("X-Consumer-Id", "forged")
			.header("Accept", "*/*");
		run(request);
		ServerWebExchange fromHit = this.forwarded.getAndSet(null);
		this.authenticator = (key) -> Mono.defer(() -> GOOD.equals(key) ? Mono.just(KEY)
				: Mono.error(InvalidApiKeyException.INSTANCE));
		run(MockServerHttpRequest.get("/orders?x=1")
			.header("Authorization", "Bearer " + GOOD)
			.header("X-Consumer-Id", "forged")
			.header("Accept", "*/*"));
		ServerWebExchange fromLater = this.forwarded.get();
		assertThat(fromLater.getRequest().getHeaders().toSingleValueMap())
			.isEqualTo(fromHit.getRequest().getHeaders().toSingleValueMap())
			.containsEntry("X-Consumer-Id", "acme");
		assertThat(fromLater.getRequest().getURI()).isEqualTo(fromHit.getRequest().getURI());
		assertThat((ApiKey) fromLater.getAttribute(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR))
			.isEqualTo(KEY);
	}

	@Test
	void aKeyWithoutScopesForwardsNoScopesHeaderEvenIfTheClientSentOne() {
		ApiKey noScopes = new ApiKey(KEY.id(), KEY.keyStart(), "acme", null, List.of(), Map.of(), Instant.EPOCH, null,
				null, null);
		this.authenticator = (key) -> Mono.just(noScopes);
		run(MockServerHttpRequest.get("/").header("X-API-Key", GOOD).header("X-Api-Key-Scopes", "admin"));
		assertThat(this.forwarded.get().getRequest().getHeaders().containsHeader("X-Api-Key-Scopes")).isFalse();
	}

	@Test
	void credentialsAreKeptWhenHidingIsOff() {
		ApiKeyAuthenticationFilter keeping = new ApiKeyAuthenticationFilter(
				new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key"), this.authenticator,
				(exchange, failure) -> Mono.error(new AssertionError(failure)),
				new IdentityHeaders("X-Consumer-Id", "X-Api-Key-Id", "X-Api-Key-Scopes", false));
		StepVerifier.create(keeping.filter(MockServerWebExchange.from(MockServerHttpRequest.get("/").header("X-API-Key", GOOD)), this.chain))
			.verifyComplete();
		assertThat(this.forwarded.get().getRequest().getHeaders().getFirst("X-API-Key")).isEqualTo(GOOD);
	}

	@Test
	void aMissingKeyIs401MissingApiKeyWithAChallenge() {
		MockServerWebExchange exchange = run(MockServerHttpRequest.get("/"));
		assertThat(this.forwarded.get()).isNull();
		assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(exchange.getResponse().getHeaders().getFirst("WWW-Authenticate")).isEqualTo("Bearer realm=\"api\"");
		assertThat(exchange.getResponse().getBodyAsString().block())
			.isEqualTo("{\"error\":\"missing_api_key\",\"message\":\"An API key is required. Send it somewhere.\"}");
	}

	@Test
	void everyInvalidKeyGetsTheSameBytes() {
		MockServerWebExchange bad = run(MockServerHttpRequest.get("/").header("X-API-Key", "sk_live_bad"));
		MockServerWebExchange twoKeys = run(
				MockServerHttpRequest.get("/").header("X-API-Key", GOOD).header("Authorization", "Bearer other"));
		MockServerWebExchange empty = run(MockServerHttpRequest.get("/").header("Authorization", "Bearer "));
		assertThat(this.forwarded.get()).isNull();
		for (MockServerWebExchange exchange : List.of(bad, twoKeys, empty)) {
			assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.UNAUTHORIZED);
			assertThat(exchange.getResponse().getHeaders().getFirst("WWW-Authenticate"))
				.isEqualTo("Bearer realm=\"api\", error=\"invalid_token\"");
			assertThat(exchange.getResponse().getHeaders().getCacheControl()).isEqualTo("no-store");
			assertThat(exchange.getResponse().getBodyAsString().block())
				.isEqualTo("{\"error\":\"invalid_api_key\",\"message\":\"The API key is not valid.\"}");
		}
	}

	@Test
	void anUnavailableStoreIs503WithRetryAfterNever401() {
		this.authenticator = (key) -> Mono.error(new KeyAuthUnavailableException(new IllegalStateException("down")));
		MockServerWebExchange exchange = run(MockServerHttpRequest.get("/").header("X-API-Key", GOOD));
		assertThat(this.forwarded.get()).isNull();
		assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
		assertThat(exchange.getResponse().getHeaders().getFirst("Retry-After")).isEqualTo("7");
		assertThat(exchange.getResponse().getBodyAsString().block()).startsWith("{\"error\":\"auth_unavailable\"");
	}

	@Test
	void aPublicRouteNeedsNoKeyButStillLosesSpoofedIdentity() {
		this.authenticator = (key) -> Mono.error(new AssertionError("a public route must not authenticate"));
		run(MockServerHttpRequest.get("/health").header("X-Consumer-Id", "admin").header("X-API-Key", "whatever"),
				route(Map.of("keyauth", Map.of("enabled", false))));
		HttpHeaders headers = this.forwarded.get().getRequest().getHeaders();
		assertThat(headers.containsHeader("X-Consumer-Id")).isFalse();
		assertThat(headers.getFirst("X-API-Key")).isEqualTo("whatever");
	}

	@Test
	void aKeySentToAPublicRouteIsNotForwardedButTheDownstreamsOwnTokenIs() {
		this.authenticator = (key) -> Mono.error(new AssertionError("a public route must not authenticate"));
		Route open = route(Map.of("keyauth", Map.of("enabled", false)));
		run(MockServerHttpRequest.get("/health").header("Authorization", "Bearer " + GOOD).header("X-API-Key", GOOD)
			.header("Accept", "*/*"), open);
		HttpHeaders headers = this.forwarded.get().getRequest().getHeaders();
		assertThat(headers.containsHeader("Authorization")).isFalse();
		assertThat(headers.containsHeader("X-API-Key")).isFalse();
		assertThat(headers.getFirst("Accept")).isEqualTo("*/*");
		assertThat((Object) this.forwarded.get().getAttribute(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR))
			.isNull();

		// A bearer token that is not one of the gateway's keys belongs to the downstream service.
		run(MockServerHttpRequest.get("/health").header("Authorization", "Bearer eyJhbGciOi.e30.sig"), open);
		assertThat(this.forwarded.get().getRequest().getHeaders().getFirst("Authorization"))
			.isEqualTo("Bearer eyJhbGciOi.e30.sig");
	}

	@Test
	void everyKeyOfARequestWithTwoDifferentOnesIsRemovedOnAPublicRoute() {
		this.authenticator = (key) -> Mono.error(new AssertionError("a public route must not authenticate"));
		this.converter = new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key", null, "sk_live_");
		Route open = route(Map.of("keyauth", Map.of("enabled", false)));
		run(MockServerHttpRequest.get("/health").header("Authorization", "Bearer " + GOOD)
			.header("X-API-Key", "sk_live_other"), open);
		HttpHeaders headers = this.forwarded.get().getRequest().getHeaders();
		assertThat(headers.containsHeader("Authorization")).isFalse();
		assertThat(headers.containsHeader("X-API-Key")).isFalse();

		// Two values of one header, one empty next to a key, and a token of the service's own.
		run(MockServerHttpRequest.get("/health").header("X-API-Key", GOOD, "sk_live_other", "")
			.header("Authorization", "Bearer eyJhbGciOi.e30.sig"), open);
		headers = this.forwarded.get().getRequest().getHeaders();
		assertThat(headers.containsHeader("X-API-Key")).isFalse();
		assertThat(headers.getFirst("Authorization")).isEqualTo("Bearer eyJhbGciOi.e30.sig");

		// An X-API-Key of the downstream service's own (not this gateway's prefix) is its business.
		run(MockServerHttpRequest.get("/health").header("X-API-Key", "theirs-1", "theirs-2"), open);
		assertThat(this.forwarded.get().getRequest().getHeaders().get("X-API-Key")).containsExactly("theirs-1",
				"theirs-2");
	}

	@Test
	void aConverterThatAnswersLaterIsWaitedForOnAPublicRouteSoItsKeyIsNotForwarded() {
		this.authenticator = (key) -> Mono.error(new AssertionError("a public route must not authenticate"));
		Route open = route(Map.of("keyauth", Map.of("enabled", false)));
		// An application's own converter that answers asynchronously, and does not override
		// keysOnRouteWithoutKeyAuth: its key in X-Token is removed all the same.
		this.converter = (exchange) -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst("X-Token"))
			.map((token) -> new ApiKeyCredential(token, List.of("X-Token")))
			.delayElement(Duration.ofMillis(10));
		this.forwarded.set(null);
		run(MockServerHttpRequest.get("/health").header("X-Token", GOOD).header("Accept", "*/*"), open);
		HttpHeaders headers = this.forwarded.get().getRequest().getHeaders();
		assertThat(headers.containsHeader("X-Token")).isFalse();
		assertThat(headers.getFirst("Accept")).isEqualTo("*/*");
		// Not one of this gateway's keys (another prefix): the downstream service's business.
		this.forwarded.set(null);
		run(MockServerHttpRequest.get("/health").header("X-Token", "theirs"), open);
		assertThat(this.forwarded.get().getRequest().getHeaders().getFirst("X-Token")).isEqualTo("theirs");
		// No key at all, and a converter that fails later: forwarded, without spoofed identity.
		this.forwarded.set(null);
		run(MockServerHttpRequest.get("/health").header("X-Consumer-Id", "admin"), open);
		assertThat(this.forwarded.get().getRequest().getHeaders().containsHeader("X-Consumer-Id")).isFalse();
		this.converter = (exchange) -> Mono.<ApiKeyCredential>error(new IllegalStateException("broken"))
			.delaySubscription(Duration.ofMillis(10));
		this.forwarded.set(null);
		run(MockServerHttpRequest.get("/health").header("X-Consumer-Id", "admin"), open);
		assertThat(this.forwarded.get().getRequest().getHeaders().containsHeader("X-Consumer-Id")).isFalse();
	}

	@Test
	void aKeyNextToTheDownstreamsOwnBearerTokenAuthenticatesAndTheTokenGoesOn() {
		this.converter = new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key", null, "sk_live_");
		run(MockServerHttpRequest.get("/orders").header("Authorization", "Bearer eyJhbGciOi.e30.sig")
			.header("X-API-Key", GOOD));
		HttpHeaders headers = this.forwarded.get().getRequest().getHeaders();
		assertThat(headers.getFirst("X-Consumer-Id")).isEqualTo("acme");
		assertThat(headers.containsHeader("X-API-Key")).isFalse();
		assertThat(headers.getFirst("Authorization")).isEqualTo("Bearer eyJhbGciOi.e30.sig");
	}

	@Test
	void aKeyInTheQueryOfAPublicRouteIsNotForwardedEither() {
		ApiKeyAuthenticationFilter readsQueries = new ApiKeyAuthenticationFilter(
				new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key", "api_key"), this.authenticator,
				new JsonKeyAuthFailureHandler("api", "Send it somewhere.", Duration.ofSeconds(7), new JsonMapper()),
				new IdentityHeaders("X-Consumer-Id", "X-Api-Key-Id", "X-Api-Key-Scopes", true));
		MockServerWebExchange exchange = MockServerWebExchange
			.from(MockServerHttpRequest.method(HttpMethod.GET, URI.create("/health?a=1&api_key=" + GOOD + "&b=%20")));
		exchange.getAttributes()
			.put(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR, route(Map.of("keyauth", Map.of("enabled", false))));
		StepVerifier.create(readsQueries.filter(exchange, this.chain)).verifyComplete();
		assertThat(this.forwarded.get().getRequest().getURI().getRawQuery()).isEqualTo("a=1&b=%20");
	}

	@Test
	void routeMetadataOnlyDisablesOnAnExplicitFalse() {
		assertThat(RouteKeyAuthPolicy.of(route(Map.of("keyauth", Map.of("enabled", "false")))).enabled()).isFalse();
		assertThat(RouteKeyAuthPolicy.of(route(Map.of("keyauth.enabled", false))).enabled()).isFalse();
		// Anything else is not a weaker policy but a misconfigured one, which refuses every request.
		for (Object unclear : List.of(Map.of("enabled", "no"), "false")) {
			RouteKeyAuthPolicy policy = RouteKeyAuthPolicy.of(route(Map.of("keyauth", unclear)));
			assertThat(policy.enabled()).isTrue();
			assertThat(policy.misconfiguration()).startsWith("route 'r': ");
		}
		assertThat(RouteKeyAuthPolicy.of(route(Map.of()))).isEqualTo(RouteKeyAuthPolicy.REQUIRED);
		assertThat(RouteKeyAuthPolicy.of(null)).isEqualTo(RouteKeyAuthPolicy.REQUIRED);
	}

	@Test
	void aMisconfiguredRouteRefusesEveryRequestWithoutLookingAtTheKey() {
		this.authenticator = (key) -> Mono.error(new AssertionError("a misconfigured route must not authenticate"));
		for (MockServerHttpRequest.BaseBuilder<?> request : List.of(MockServerHttpRequest.get("/").header("X-API-Key", GOOD),
				MockServerHttpRequest.get("/"))) {
			MockServerWebExchange exchange = run(request, route(Map.of("keyauth", Map.of("scope", "orders:admin"))));
			assertThat(this.forwarded.get()).isNull();
			assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
			assertThat(exchange.getResponse().getHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_JSON);
			assertThat(exchange.getResponse().getBodyAsString().block())
				.startsWith("{\"error\":\"route_misconfigured\"");
		}
	}

	@Test
	void errorsFromTheDownstreamChainAreNotTurnedIntoAuthFailures() {
		MockServerWebExchange exchange = MockServerWebExchange
			.from(MockServerHttpRequest.get("/").header("X-API-Key", GOOD));
		GatewayFilterChain failing = (e) -> Mono.error(InvalidApiKeyException.INSTANCE);
		StepVerifier.create(filter().filter(exchange, failing)).verifyError(InvalidApiKeyException.class);
		assertThat(exchange.getResponse().getStatusCode()).isNull();
	}

	@Test
	void runsBeforeTheGatewaysOwnAndRouteFilters() {
		assertThat(filter().getOrder()).isLessThan(-1).isEqualTo(ApiKeyAuthenticationFilter.KEY_AUTH_FILTER_ORDER);
	}

}
