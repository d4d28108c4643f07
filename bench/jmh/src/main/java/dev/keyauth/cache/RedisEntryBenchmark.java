package dev.keyauth.cache;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
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
import tools.jackson.databind.json.JsonMapper;

/**
 * What a Redis hit costs the gateway besides the round trip: reading the entry, its signature
 * check (HMAC-SHA256 over the record and the hash) and the JSON. In the plugin's package, to call
 * the cache's own decoding; no Redis is needed for it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class RedisEntryBenchmark {

	private RedisKeyCache cache;

	private KeyHash hash;

	private String entry;

	private EntrySignature signature;

	private String record;

	private String recordSignature;

	@Setup
	public void setUp() {
		// Never connected: decoding does not touch Redis.
		this.cache = new RedisKeyCache(null, new JsonMapper(), "keyauth:", Duration.ofMillis(50),
				CircuitBreaker.ofDefaults("bench"), new byte[32]);
		this.hash = KeyHash.sha256("a key");
		ApiKey key = new ApiKey(UUID.randomUUID(), "sk_live_Ab3x", "acme", "orders", List.of("orders:read"),
				Map.of("plan", "pro"), Instant.now(), null, null, null);
		this.entry = this.cache.encode(this.hash, new CachedLookup(key, System.currentTimeMillis()));
		this.signature = new EntrySignature(new byte[32]);
		this.record = this.entry.substring(this.entry.indexOf('.') + 1);
		this.recordSignature = this.entry.substring(0, this.entry.indexOf('.'));
	}

	@Benchmark
	public CachedLookup decodeASignedEntry() {
		return this.cache.decode(this.hash, this.entry);
	}

	/** The signature check alone. */
	@Benchmark
	public boolean checkTheSignature() {
		return this.signature.matches(this.hash, this.record, this.recordSignature);
	}

}
