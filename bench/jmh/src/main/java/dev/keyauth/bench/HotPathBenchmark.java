package dev.keyauth.bench;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keyauth.authentication.LookupApiKeyAuthenticator;
import dev.keyauth.cache.CachePolicy;
import dev.keyauth.cache.TieredApiKeyLookup;
import dev.keyauth.filter.AmbiguousPathFilter;
import dev.keyauth.filter.RouteKeyAuthPolicies;
import dev.keyauth.filter.RouteKeyAuthPolicy;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.support.MonotonicClock;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
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

import org.springframework.cloud.gateway.route.Route;

/**
 * The pieces every authenticated request runs: the format and checksum check, SHA-256 of the key,
 * and an in-process cache hit, and the three together as the authenticator runs them; and the
 * route's policy lookup, against the weak-keyed cache alone that it used to be; and the path check
 * every routed request gets. Run with {@code -prof gc} for bytes allocated per operation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class HotPathBenchmark {

	private final ApiKeyFormat format = new ApiKeyFormat("sk_live_");

	private String key;

	private String badChecksum;

	private byte[] keyBytes;

	private byte[] badChecksumBytes;

	private KeyHash hash;

	private TieredApiKeyLookup lookup;

	private LookupApiKeyAuthenticator authenticator;

	private Route route;

	/** A path of the kind most requests have: nothing to decode, no dots. */
	private String path = "/orders/42/items";

	private final RouteKeyAuthPolicies policies = new RouteKeyAuthPolicies();

	private final Cache<Route, RouteKeyAuthPolicy> weakKeyedPolicies = Caffeine.newBuilder()
		.weakKeys()
		.executor(Runnable::run)
		.build();

	@Setup
	public void setUp() {
		this.key = new ApiKeyGenerator(this.format).generateKey();
		this.badChecksum = this.key.substring(0, this.key.length() - 1) + (this.key.endsWith("A") ? "B" : "A");
		this.keyBytes = this.key.getBytes(StandardCharsets.US_ASCII);
		this.badChecksumBytes = this.badChecksum.getBytes(StandardCharsets.US_ASCII);
		this.hash = KeyHash.sha256(this.key);
		ApiKey stored = new ApiKey(UUID.randomUUID(), this.key.substring(0, 12), "bench", null, List.of("read"),
				Map.of(), Instant.now(), null, null, null);
		this.lookup = new TieredApiKeyLookup((h) -> Mono.just(stored), 1000, null,
				new CachePolicy(Duration.ofHours(1), Duration.ofSeconds(10), Duration.ofHours(1), Duration.ofSeconds(1),
						Duration.ofMinutes(5), Duration.ofSeconds(1)),
				Clock.systemUTC(), MonotonicClock.SYSTEM, Duration.ofSeconds(1), CircuitBreaker.ofDefaults("bench"));
		this.lookup.findByHash(this.hash).block();
		this.authenticator = new LookupApiKeyAuthenticator(this.format, this.lookup, Clock.systemUTC(),
				Duration.ofSeconds(1));
		this.route = Route.async().id("orders").uri("http://127.0.0.1:8080").predicate((exchange) -> true)
			.metadata(Map.of("keyauth", Map.of("scopes", List.of("read")))).build();
	}

	/** The check on the key's ASCII bytes, which the authenticator converts once for it and SHA-256. */
	@Benchmark
	public boolean formatAndChecksum() {
		return this.format.isWellFormed(this.keyBytes);
	}

	@Benchmark
	public boolean formatAndChecksumRejectingABadOne() {
		return this.format.isWellFormed(this.badChecksumBytes);
	}

	@Benchmark
	public KeyHash sha256() {
		return KeyHash.sha256(this.key);
	}

	@Benchmark
	public Mono<ApiKey> inProcessCacheHit() {
		return this.lookup.findByHash(this.hash);
	}

	/** Format, checksum, SHA-256 and the cache hit, as a request with a good key runs them. */
	@Benchmark
	public Mono<ApiKey> keyCheck() {
		return this.authenticator.authenticate(this.key);
	}

	/** The route's policy, as the filter looks it up on every request. */
	@Benchmark
	public RouteKeyAuthPolicy routePolicy() {
		return this.policies.forRoute(this.route);
	}

	/** The same from a weak-keyed Caffeine cache alone, as the filter looked it up before it indexed policies by route id. */
	@Benchmark
	public RouteKeyAuthPolicy routePolicyFromAWeakKeyedCache() {
		return this.weakKeyedPolicies.get(this.route, RouteKeyAuthPolicy::of);
	}

	/** The ambiguous-path check on an ordinary path, which one scan passes. */
	@Benchmark
	public AmbiguousPathFilter.Problem pathCheck() {
		return AmbiguousPathFilter.problemIn(this.path);
	}

	/**
	 * The two {@code indexOf} scans that passed an ordinary path before empty segments were
	 * checked too, for comparison.
	 */
	@Benchmark
	public boolean pathCheckBeforeEmptySegments() {
		return this.path.indexOf('.') < 0 && this.path.indexOf('%') < 0;
	}

}
