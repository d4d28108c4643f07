package dev.keyauth.ratelimit;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.filter.ApiKeyAuthenticationFilter;
import dev.keyauth.filter.IdentityHeaders;
import dev.keyauth.filter.RouteKeyAuthPolicies;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.ratelimit.ApiKeyRateLimiter.Decision;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.RateLimit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.http.server.reactive.MockServerHttpResponse;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

/** What the filter does with the limiter's decision; the limiter itself runs against Redis elsewhere. */
class ApiKeyRateLimitFilterTest {

	private static final RateLimit LIMIT = new RateLimit(10, 20);

	private static final ApiKey KEY = new ApiKey(UUID.randomUUID(), "sk_live_abcd", "acme", null, List.of(),
			Map.of(), Instant.EPOCH, null, null, null, null, LIMIT, null, 0);

	private final AtomicInteger forwarded = new AtomicInteger();

	private final GatewayFilterChain chain = (exchange) -> {
		this.forwarded.incrementAndGet();
		return Mono.empty();
	};

	private final List<String> buckets = new java.util.ArrayList<>();

	private ApiKeyRateLimiter deciding(boolean allowed) {
		return deciding(allowed, this.buckets);
	}

	@SuppressWarnings({ "unchecked", "rawtypes" })
	private static ApiKeyRateLimiter deciding(boolean allowed, List<String> buckets) {
		return new ApiKeyRateLimiter(mock(ReactiveStringRedisTemplate.class),
				(RedisScript) RedisScript.of("return {1, 1}", List.class), "t:", Duration.ofMillis(100), true, () -> {
				}) {
			@Override
			public Mono<Decision> consume(String bucket, RateLimit limit) {
				buckets.add(bucket + "@" + limit.requestsPerSecond());
				return Mono.just(new Decision(allowed, allowed ? 7 : 0, limit));
			}
		};
	}

	/**
	 * A keyless request on a route with {@code keyauth} metadata, forwarded as the anonymous
	 * consumer (as the authentication filter does) or not.
	 */
	private ServerWebExchange runWithoutKey(Map<String, Object> keyauth, boolean asAnonymous) {
		ApiKeyRateLimitFilter filter = new ApiKeyRateLimitFilter(deciding(false), new RouteKeyAuthPolicies(),
				new RateLimit(1, 1), KeyAuthMetrics.NONE, true);
		MockServerWebExchange request = MockServerWebExchange.from(MockServerHttpRequest.get("/"));
		request.getAttributes().put(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR, Route.async().id("open")
			.uri("http://downstream").predicate((e) -> true).metadata(Map.of("keyauth", keyauth)).build());
		ServerWebExchange exchange = asAnonymous
				? new IdentityHeaders("X-Consumer-Id", "X-Api-Key-Id", "X-Api-Key-Scopes", true).anonymous(request, "guest")
				: request;
		StepVerifier.create(filter.filter(exchange, this.chain)).verifyComplete();
		return exchange;
	}

	@Test
	void anonymousRequestsShareOneBucketOnARouteWithALimit() {
		ServerWebExchange refused = runWithoutKey(
				Map.of("anonymous-consumer", "guest", "rate-limit", Map.of("requests-per-second", 3)), true);
		assertThat(this.buckets).containsExactly("anonymous:open@3");
		assertThat(refused.getResponse().getStatusCode()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(((MockServerHttpResponse) refused.getResponse()).getBodyAsString().block())
			.contains("without an API key");
		assertThat(this.forwarded).hasValue(0);
	}

	@Test
	void keylessRequestsAreNotCountedWhereTheRouteHasNoLimitOrTheyAreNotAnonymous() {
		// The default limit is for keys; a public route's requests are not the plugin's to count.
		runWithoutKey(Map.of("anonymous-consumer", "guest"), true);
		runWithoutKey(Map.of("enabled", false, "rate-limit", Map.of("requests-per-second", 3)), false);
		assertThat(this.buckets).isEmpty();
		assertThat(this.forwarded).hasValue(2);
	}

	private MockServerWebExchange run(boolean allowed, boolean includeHeaders) {
		ApiKeyRateLimitFilter filter = new ApiKeyRateLimitFilter(deciding(allowed), new RouteKeyAuthPolicies(), null,
				KeyAuthMetrics.NONE, includeHeaders);
		MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/"));
		exchange.getAttributes().put(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR, KEY);
		StepVerifier.create(filter.filter(exchange, this.chain)).verifyComplete();
		return exchange;
	}

	@Test
	void anAllowedRequestIsForwardedWithTheGatewaysRateLimitHeaders() {
		HttpHeaders headers = run(true, true).getResponse().getHeaders();
		assertThat(this.forwarded).hasValue(1);
		assertThat(headers.getFirst("X-RateLimit-Remaining")).isEqualTo("7");
		assertThat(headers.getFirst("X-RateLimit-Replenish-Rate")).isEqualTo("10");
		assertThat(headers.getFirst("X-RateLimit-Burst-Capacity")).isEqualTo("20");
	}

	@Test
	void headersCanBeLeftOutButARefusalStillSaysWhenToRetry() {
		assertThat(run(true, false).getResponse().getHeaders().containsHeader("X-RateLimit-Remaining")).isFalse();
		MockServerWebExchange refused = run(false, false);
		assertThat(refused.getResponse().getStatusCode()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(refused.getResponse().getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
		assertThat(refused.getResponse().getHeaders().containsHeader("X-RateLimit-Remaining")).isFalse();
		assertThat(refused.getResponse().getBodyAsString().block()).contains("\"error\":\"rate_limited\"");
		assertThat(this.forwarded).hasValue(1);
	}

}
