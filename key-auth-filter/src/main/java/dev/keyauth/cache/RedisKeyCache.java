package dev.keyauth.cache;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.store.ApiKey;
import dev.keyauth.support.Timeouts;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/**
 * The shared tier: store answers in Redis, keyed by {@code <prefix>key:<hex SHA-256>}. Neither
 * the key nor anything it could be derived from is written; the value is the key's non-secret
 * record (id, consumer, scopes, ...) or a "not found" marker, after its signature
 * ({@link EntrySignature}): an entry whose signature does not match is a miss.
 * <p>
 * Failure mode: every call is bounded by a short timeout and guarded by a circuit breaker. A
 * failing, slow or unreachable Redis makes {@link #get} answer "miss" and {@link #put} do nothing,
 * so authentication carries on from the in-process cache and PostgreSQL; once the breaker is
 * open, Redis costs a request nothing at all until it is probed again.
 */
public class RedisKeyCache {

	private static final Log logger = LogFactory.getLog(RedisKeyCache.class);

	private static final long UNVERIFIED_WARNING_INTERVAL = TimeUnit.MINUTES.toNanos(1);

	private final ReactiveStringRedisTemplate redis;

	private final JsonMapper json;

	private final String keyPrefix;

	private final Duration timeout;

	private final CircuitBreaker breaker;

	private final EntrySignature signature;

	private final AtomicLong unverified = new AtomicLong();

	private volatile KeyAuthMetrics metrics = KeyAuthMetrics.NONE;

	private final AtomicLong lastUnverifiedWarning = new AtomicLong(System.nanoTime() - UNVERIFIED_WARNING_INTERVAL);

	/**
	 * @param signingSecret the secret entries are signed with (at least 32 bytes): the same on
	 * every instance that shares the entries
	 */
	public RedisKeyCache(ReactiveStringRedisTemplate redis, JsonMapper json, String keyPrefix, Duration timeout,
			CircuitBreaker breaker, byte[] signingSecret) {
		this.redis = redis;
		this.json = json;
		this.keyPrefix = keyPrefix + "key:";
		this.timeout = timeout;
		this.breaker = breaker;
		this.signature = new EntrySignature(signingSecret);
	}

	public void setMetrics(KeyAuthMetrics metrics) {
		this.metrics = metrics;
	}

	public CircuitBreaker breaker() {
		return this.breaker;
	}

	/** Longest a call may take before it counts as a miss. */
	public Duration timeout() {
		return this.timeout;
	}

	/**
	 * The cached answer, as read from the store by whichever instance put it there, or empty on a
	 * miss and on any failure. Never signals an error.
	 */
	public Mono<CachedLookup> get(KeyHash hash) {
		return guard(this.redis.opsForValue().get(redisKey(hash)))
			.mapNotNull((value) -> decode(hash, value))
			.onErrorResume((ex) -> {
				logger.debug("Redis key cache read failed; treating as a miss", ex);
				return Mono.empty();
			});
	}

	/** Writes the answer with a time to live; failures are ignored (the next reader goes to the store). */
	public Mono<Void> put(KeyHash hash, CachedLookup lookup, Duration ttl) {
		return guard(this.redis.opsForValue().set(redisKey(hash), encode(hash, lookup), ttl)).then()
			.onErrorResume((ex) -> {
				logger.debug("Redis key cache write failed", ex);
				return Mono.empty();
			});
	}

	/** Deletes the entry. Unlike reads, failures are signalled: invalidation must know to retry. */
	public Mono<Void> delete(KeyHash hash) {
		return guard(this.redis.delete(redisKey(hash))).then();
	}

	private <T> Mono<T> guard(Mono<T> call) {
		return Timeouts.within(call, this.timeout).transformDeferred(CircuitBreakerOperator.of(this.breaker));
	}

	String redisKey(KeyHash hash) {
		return this.keyPrefix + hash.toHex();
	}

	String encode(KeyHash hash, CachedLookup lookup) {
		String entry = this.json.writeValueAsString(new Entry(lookup.key(), lookup.loadedAt()));
		return this.signature.sign(hash, entry) + "." + entry;
	}

	@Nullable CachedLookup decode(KeyHash hash, String value) {
		int dot = value.indexOf('.');
		String record = (dot < 0) ? null : value.substring(dot + 1);
		if (record == null || !this.signature.matches(hash, record, value.substring(0, dot))) {
			unverified();
			return null;
		}
		try {
			Entry entry = this.json.readValue(record, Entry.class);
			// The receiving instance decides how long it keeps the answer without asking again.
			return new CachedLookup(entry.key(), entry.loadedAt());
		}
		catch (RuntimeException ex) {
			// Written by another version, or damaged: a miss; the next store load overwrites it.
			logger.debug("Ignoring an unreadable Redis key cache entry", ex);
			return null;
		}
	}

	/**
	 * A forged entry, one written with another secret (another deployment sharing this Redis and
	 * key prefix), or one of a version before signing: a miss, which the store answers and
	 * overwrites. Said at most once a minute, with how many there were.
	 */
	private void unverified() {
		this.metrics.redisEntryRejected();
		long count = this.unverified.incrementAndGet();
		long last = this.lastUnverifiedWarning.get();
		long now = System.nanoTime();
		if (now - last >= UNVERIFIED_WARNING_INTERVAL && this.lastUnverifiedWarning.compareAndSet(last, now)) {
			this.unverified.addAndGet(-count);
			logger.warn("Ignored " + count + " Redis key cache entries whose signature does not match this "
					+ "gateway's secret (written with another secret, by a version that did not sign them, or by "
					+ "something that is not a gateway); each key was read from the store instead");
		}
	}

	/** What is written to Redis: the key's record (or null for "not found") and when it was read. */
	record Entry(@Nullable ApiKey key, long loadedAt) {
	}

}
