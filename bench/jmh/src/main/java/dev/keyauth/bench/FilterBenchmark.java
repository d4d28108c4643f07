package dev.keyauth.bench;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import dev.keyauth.authentication.LookupApiKeyAuthenticator;
import dev.keyauth.cache.CachePolicy;
import dev.keyauth.cache.TieredApiKeyLookup;
import dev.keyauth.filter.ApiKeyAuthenticationFilter;
import dev.keyauth.filter.HeaderApiKeyCredentialConverter;
import dev.keyauth.filter.IdentityHeaders;
import dev.keyauth.filter.JsonKeyAuthFailureHandler;
import dev.keyauth.filter.RouteKeyAuthPolicies;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.metrics.MicrometerKeyAuthMetrics;
import dev.keyauth.store.ApiKey;
import dev.keyauth.support.MonotonicClock;
import dev.keyauth.usage.KeyUsageRecorder;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;

/**
 * The whole authentication filter on one request with a valid key answered by the in-process
 * cache, as configured by default (metrics, usage counting), on an exchange with its route as the
 * gateway's handler mapping leaves it, against building the same exchange alone: the difference
 * is what the filter costs per request, with {@code -prof gc} in bytes too.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class FilterBenchmark {

	private final GatewayFilterChain chain = (exchange) -> Mono.empty();

	private String key;

	private ApiKeyAuthenticationFilter filter;

	private final Route route = Route.async().id("bench").uri("http://127.0.0.1:8080").predicate((e) -> true).build();

	@Setup
	public void setUp() {
		ApiKeyFormat format = new ApiKeyFormat("sk_live_");
		this.key = new ApiKeyGenerator(format).generateKey();
		ApiKey stored = new ApiKey(UUID.randomUUID(), this.key.substring(0, 12), "bench", null, List.of("read"),
				Map.of(), Instant.now(), null, null, null);
		TieredApiKeyLookup lookup = new TieredApiKeyLookup((h) -> Mono.just(stored), 1000, null,
				new CachePolicy(Duration.ofHours(1), Duration.ofSeconds(10), Duration.ofHours(1), Duration.ofSeconds(1),
						Duration.ofMinutes(5), Duration.ofSeconds(1)),
				Clock.systemUTC(), MonotonicClock.SYSTEM, Duration.ofSeconds(1), CircuitBreaker.ofDefaults("bench"));
		this.filter = new ApiKeyAuthenticationFilter(new RouteKeyAuthPolicies(),
				new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key"),
				new LookupApiKeyAuthenticator(format, lookup, Clock.systemUTC(), Duration.ofSeconds(1)),
				new JsonKeyAuthFailureHandler("api", "Send a key.", Duration.ofSeconds(1), new JsonMapper()),
				new IdentityHeaders("X-Consumer-Id", "X-Api-Key-Id", "X-Api-Key-Scopes", true),
				new ApiKeyAuthenticationFilter.Options(Duration.ofDays(7), "X-Api-Key-Expires", Clock.systemUTC()),
				new CountingUsage(), new MicrometerKeyAuthMetrics(new SimpleMeterRegistry()));
	}

	private MockServerWebExchange exchange() {
		MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/bench/x")
			.header("Host", "127.0.0.1:8180")
			.header("User-Agent", "wrk")
			.header("X-API-Key", this.key));
		// As the gateway's handler mapping leaves it: the filter looks the route's policy up.
		exchange.getAttributes().put(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR, this.route);
		return exchange;
	}

	@Benchmark
	public ServerWebExchange exchangeOnly() {
		return exchange();
	}

	@Benchmark
	public Object authenticatedRequest() {
		MockServerWebExchange exchange = exchange();
		this.filter.filter(exchange, this.chain).subscribe();
		return exchange;
	}

	/** Counts like the batching recorder does between flushes, without a store. */
	static final class CountingUsage implements KeyUsageRecorder {

		private final Map<UUID, LongAdder> counts = new ConcurrentHashMap<>();

		@Override
		public void record(UUID keyId) {
			this.counts.computeIfAbsent(keyId, (id) -> new LongAdder()).increment();
		}

	}

}
