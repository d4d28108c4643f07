package dev.keyauth.cache;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.github.benmanes.caffeine.cache.AsyncCacheLoader;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.metrics.KeyAuthMetrics.Tier;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.support.MonotonicClock;
import dev.keyauth.support.Timeouts;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Looks keys up through the in-process cache (Caffeine), then Redis, then the store.
 * <p>
 * <ul>
 * <li>Found keys and "not found" answers are both cached, the latter briefly, so a flood of
 * invented (but checksum-valid) keys costs one store query per distinct key per negative TTL.</li>
 * <li>Concurrent misses for one hash share a single load: Caffeine's async cache hands every
 * caller the same future.</li>
 * <li>A local entry is used only while it is fresh and while the {@link InvalidationBus} vouches
 * for it, so revocations published by other instances are never ignored for long.</li>
 * <li>A found key still in use shortly before its local TTL runs out is read again in the
 * background (refresh-ahead, Caffeine's refresh), so the requests of a busy key do not wait
 * for Redis or PostgreSQL when its TTL runs out, and keep taking the same code path.</li>
 * </ul>
 * Failure modes:
 * <ul>
 * <li>Redis down or slow: {@link RedisKeyCache} answers "miss" within its timeout, or at once
 * when its breaker is open; lookups continue from the local cache and the store.</li>
 * <li>Store down or slow (bounded by a timeout and a circuit breaker): a key whose last answer was
 * read from the store less than {@code staleIfError} ago keeps working; any other key errors,
 * which the authenticator turns into 503, never 401. Recovery needs nothing: the next load
 * succeeds and the caches refill.</li>
 * <li>A load that never ends, whatever the cause (it happened once: a timeout that a client
 * library's cancellation kept from firing, see {@link dev.keyauth.support.Timeouts}): each load
 * held in the cache is also ended after the tiers' timeouts plus a second, with the stale answer
 * or as a failure, so one stuck load cannot hold every request for its key.</li>
 * </ul>
 */
public class TieredApiKeyLookup implements ApiKeyLookup, LocalCacheEvictions {

	/** How many of the keys changed recently an instance remembers (about 150 bytes each). */
	public static final int CHANGES_REMEMBERED = 100_000;

	// One instance for every load the bound ends: a stack trace would only show the JDK's timer.
	private static final TimeoutException LOAD_NEVER_ENDED = new TimeoutException(
			"The key lookup did not end within the tiers' timeouts");

	private final ApiKeyLookup store;

	private final @Nullable AsyncLoadingCache<KeyHash, CachedLookup> local;

	private final @Nullable RedisKeyCache redis;

	private final CachePolicy policy;

	private final Clock clock;

	private final MonotonicClock elapsed;

	private final Duration storeTimeout;

	private final CircuitBreaker storeBreaker;

	private final long loadBoundMillis;

	private final long maxRedisAgeMillis;

	private volatile KeyAuthMetrics metrics = KeyAuthMetrics.NONE;

	/**
	 * When this instance last heard of a change to each key (or, for changes made before it
	 * started, when the change was made), for as long as a Redis entry read before it could
	 * still pass {@link #couldStillBeInRedis}. Two rules read it: a load that the
	 * change overtook does not write its answer to Redis, and a Redis entry read from the store
	 * before the change is not used, whoever wrote it back.
	 */
	private final Cache<KeyHash, Eviction> recentEvictions;

	private volatile long lastEvictAll = System.nanoTime();

	/**
	 * The last {@link #evictAll()}, in monotonic millis: local entries received at or before it
	 * are no longer trusted, but stay as stale fallbacks.
	 */
	private volatile long untrustedThrough = Long.MIN_VALUE;

	private volatile InvalidationBus bus = InvalidationBus.LOCAL;

	/**
	 * @param store the source of truth
	 * @param localMaxSize most keys kept in process, or 0 for no in-process tier
	 * @param redis the shared tier, or {@code null} for none
	 * @param clock wall-clock time, for how old an answer read by another instance is
	 * @param elapsed this instance's own time, for how long it keeps and trusts an answer
	 */
	public TieredApiKeyLookup(ApiKeyLookup store, long localMaxSize, @Nullable RedisKeyCache redis, CachePolicy policy,
			Clock clock, MonotonicClock elapsed, Duration storeTimeout, CircuitBreaker storeBreaker) {
		this.store = store;
		this.redis = redis;
		this.policy = policy;
		this.clock = clock;
		this.elapsed = elapsed;
		this.storeTimeout = storeTimeout;
		this.storeBreaker = storeBreaker;
		// Past every tier's own timeout, and past the authenticator's (store + Redis + 500 ms), so
		// that normally the tiers end a slow load and the bound is never what answers a request.
		this.loadBoundMillis = storeTimeout.plus((redis != null) ? redis.timeout() : Duration.ZERO)
			.plusSeconds(1)
			.toMillis();
		this.maxRedisAgeMillis = Math.max(policy.redisTtl().toMillis(), policy.negativeTtl().toMillis()) + 60_000;
		// Bounded, so that a flood of changes, or of invalidations forged by someone with access
		// to Redis, cannot grow it without end. Past the bound Caffeine drops some, and entries
		// read before those changes are held to the age rule alone.
		this.recentEvictions = Caffeine.newBuilder()
			.maximumSize(CHANGES_REMEMBERED)
			.expireAfterWrite(Duration.ofMillis(this.maxRedisAgeMillis))
			.executor(Runnable::run)
			.build();
		this.local = (localMaxSize > 0) ? Caffeine.newBuilder()
			.maximumSize(localMaxSize)
			.expireAfter(new LocalExpiry())
			// Maintenance is a few map operations: run it on the calling thread, no hand-offs.
			.executor(Runnable::run)
			.buildAsync(new RefreshAhead()) : null;
	}

	public void setMetrics(KeyAuthMetrics metrics) {
		this.metrics = metrics;
	}

	/** The bus whose confirmations decide how long local entries are trusted. */
	public void setInvalidationBus(InvalidationBus bus) {
		this.bus = bus;
	}

	@Override
	public Mono<ApiKey> findByHash(KeyHash hash) {
		long now = this.elapsed.monotonicMillis();
		if (this.local == null) {
			return load(hash, null, now).flatMap(CachedLookup::asMono);
		}
		CachedLookup stale = null;
		CompletableFuture<CachedLookup> present = this.local.getIfPresent(hash);
		if (present != null && present.isDone() && !present.isCompletedExceptionally()) {
			CachedLookup cached = present.join();
			if (isTrusted(cached, now)) {
				this.metrics.cache(Tier.LOCAL, true);
				if (cached.claimRefresh(now)) {
					// Caffeine keeps one refresh per key and drops its answer if the entry was
					// evicted or replaced meanwhile; this request goes on with the cached answer.
					this.local.synchronous().refresh(hash);
				}
				return cached.asMono();
			}
			// Too old to use as is: drop it (only if nobody replaced it meanwhile) and reload; the
			// callers that arrive during the reload all wait for this one load.
			this.local.asMap().remove(hash, present);
			stale = cached;
		}
		this.metrics.cache(Tier.LOCAL, false);
		CachedLookup fallback = stale;
		CompletableFuture<CachedLookup> loading = this.local.get(hash,
				(key, executor) -> bounded(load(key, fallback, now), staleOrFailed(fallback, LOAD_NEVER_ENDED, now)));
		// suppressCancel: one caller going away must not cancel the load the others wait for.
		return Mono.fromFuture(loading, true).flatMap(CachedLookup::asMono);
	}

	private boolean isTrusted(CachedLookup cached, long now) {
		if (now >= cached.checkAfter() || cached.isFailure() || cached.receivedAt() <= this.untrustedThrough) {
			return false;
		}
		long confirmed = this.bus.confirmedThrough();
		if (confirmed == Long.MAX_VALUE) {
			return true;
		}
		// Trusted for a short while past the later of: the last proof that every invalidation
		// has arrived, and the moment this answer itself arrived.
		return now - Math.max(confirmed, cached.receivedAt()) <= this.policy.unconfirmedTrust().toMillis();
	}

	private Mono<CachedLookup> load(KeyHash hash, @Nullable CachedLookup stale, long now) {
		long startedAt = System.nanoTime();
		Mono<CachedLookup> fromRedis = (this.redis != null) ? this.redis.get(hash)
			.filter((hit) -> couldStillBeInRedis(hit) && !readBeforeAChange(hash, hit))
			.map((hit) -> received(hit, now))
			.doOnNext((hit) -> this.metrics.cache(Tier.REDIS, true))
			.switchIfEmpty(Mono.fromRunnable(() -> this.metrics.cache(Tier.REDIS, false))) : Mono.empty();
		return fromRedis.switchIfEmpty(Mono.defer(() -> loadFromStore(hash, startedAt)))
			.onErrorResume((ex) -> serveStale(stale, ex));
	}

	/**
	 * Whether Redis could still hold this entry by its TTL. Every entry a gateway writes to Redis
	 * is a store answer read just then, so one older than any of their TTLs (plus a minute for
	 * clock skew between instances) was written back by something else: a genuine, signed entry
	 * kept by someone with access to Redis, to keep a key they have working after its revocation.
	 */
	private boolean couldStillBeInRedis(CachedLookup hit) {
		if (this.clock.millis() - hit.loadedAt() <= this.maxRedisAgeMillis) {
			return true;
		}
		this.metrics.redisEntryRejected();
		return false;
	}

	/**
	 * Whether this entry was read from the store no later than this instance heard of a change
	 * to its key. The instance that made the change deleted the entry before announcing it, so
	 * such an entry was written back afterwards: by a load that read the store just before the
	 * change and wrote to Redis just after the delete and its repeat (a slow query), or on
	 * purpose, by someone with access to Redis who kept a genuine entry of a key to keep it
	 * working after its revocation. Either way it may hold the key as it was; the store says
	 * how it is. An entry read just after the change by an instance whose clock is behind this
	 * one's is also passed over: one more store query, never a wrong answer. (Not counted as a
	 * rejected entry: clocks a few milliseconds apart would make that alert fire in normal use.)
	 */
	private boolean readBeforeAChange(KeyHash hash, CachedLookup hit) {
		Eviction eviction = this.recentEvictions.getIfPresent(hash);
		return eviction != null && hit.loadedAt() <= eviction.wallMillis();
	}

	private Mono<CachedLookup> loadFromStore(KeyHash hash, long startedAt) {
		// Called on subscription. The answer is dated by when the query was sent, not when it
		// came back: it shows the key as it was at some moment in between, so the earlier is the
		// safe age, and the one readBeforeAChange needs.
		long queriedAt = this.clock.millis();
		long queryStart = System.nanoTime();
		return Timeouts.within(this.store.findByHash(hash), this.storeTimeout)
			.doOnSuccess((key) -> this.metrics.storeLookup(System.nanoTime() - queryStart, true))
			.doOnError((ex) -> this.metrics.storeLookup(System.nanoTime() - queryStart, false))
			.transformDeferred(CircuitBreakerOperator.of(this.storeBreaker))
			.map((key) -> answer(key, queriedAt))
			.switchIfEmpty(Mono.fromSupplier(() -> answer(null, queriedAt)))
			.doOnNext((answer) -> {
				if (this.redis != null && !evictedSince(hash, startedAt)) {
					Duration ttl = answer.found() ? this.policy.redisTtl() : this.policy.negativeTtl();
					// Fire and forget: the request does not wait for the shared tier.
					this.redis.put(hash, answer, ttl).subscribe();
				}
			});
	}

	private CachedLookup answer(@Nullable ApiKey key, long queriedAt) {
		return received(new CachedLookup(key, queriedAt), this.elapsed.monotonicMillis());
	}

	/** An answer from Redis or the store, as this instance keeps it from {@code now}. */
	private CachedLookup received(CachedLookup answer, long now) {
		// How old the answer already is, by the wall clock, since another instance may have read
		// it; from then on this instance counts on its own monotonic clock. An answer "from the
		// future" (that instance's clock ahead of this one's) counts as new.
		long readAt = now - Math.max(0, this.clock.millis() - answer.loadedAt());
		// "Not found" never outlives its negative TTL, counted from when the store said so.
		long checkAfter = answer.found() ? now + this.policy.localTtl().toMillis()
				: readAt + this.policy.negativeTtl().toMillis();
		long refreshAhead = this.policy.refreshAhead().toMillis();
		// Only found keys: an unknown key someone keeps sending earns no background work.
		long refreshAt = (answer.found() && refreshAhead > 0) ? checkAfter - refreshAhead : Long.MAX_VALUE;
		return answer.received(readAt, now, checkAfter, refreshAt);
	}

	private boolean evictedSince(KeyHash hash, long startedAt) {
		Eviction eviction = this.recentEvictions.getIfPresent(hash);
		return this.lastEvictAll - startedAt >= 0 || (eviction != null && eviction.nanos() - startedAt >= 0);
	}

	/**
	 * The store failed: a found key read recently enough keeps working; anything else becomes a
	 * failed answer, which every waiting caller receives as an error and no cache keeps.
	 */
	private Mono<CachedLookup> serveStale(@Nullable CachedLookup stale, Throwable failure) {
		return Mono.just(staleOrFailed(stale, failure, this.elapsed.monotonicMillis()));
	}

	private CachedLookup staleOrFailed(@Nullable CachedLookup stale, Throwable failure, long now) {
		if (stale != null && stale.found() && now - stale.readAt() < this.policy.staleIfError().toMillis()) {
			return stale.receivedAgain(now, now + this.policy.storeRetryInterval().toMillis());
		}
		return CachedLookup.failed(failure);
	}

	/**
	 * The load as the cache holds it: ended with {@code onTimeout} if it has not ended within
	 * the load bound. The JDK's timer does this, not Reactor's, so that it does not depend on
	 * the load's own operators behaving.
	 */
	private CompletableFuture<CachedLookup> bounded(Mono<CachedLookup> load, CachedLookup onTimeout) {
		return load.toFuture().completeOnTimeout(onTimeout, this.loadBoundMillis, TimeUnit.MILLISECONDS);
	}

	@Override
	public void evict(KeyHash hash) {
		this.recentEvictions.put(hash, new Eviction(System.nanoTime(), this.clock.millis()));
		if (this.local != null) {
			// Also discards a load in flight for this hash: its answer may predate the change.
			this.local.synchronous().invalidate(hash);
		}
	}

	/**
	 * How far back a change to a key can still matter to this instance: the oldest a Redis entry
	 * may be and still be used. A starting instance reads the changes made within it from the
	 * store and passes each to {@link #heardOfEarlierChange}.
	 */
	public Duration changesWorthKnowing() {
		return Duration.ofMillis(this.maxRedisAgeMillis);
	}

	/**
	 * A change to a key made before this instance started, read from the store: from now on a
	 * Redis entry of that key read from the store no later than {@code changedAt} is passed over,
	 * as it is by the instances that heard of the change when it was made. Without it an instance
	 * started after a revocation would have nothing to hold a revoked key's entry against, kept
	 * and written back to Redis by someone with access to it (or by a query that came back late),
	 * until the entry's age ruled it out.
	 */
	public void heardOfEarlierChange(KeyHash hash, Instant changedAt) {
		long wallMillis = changedAt.toEpochMilli();
		// On this instance's own clock, when the change was made: before any load it could
		// overtake (see evictedSince), so the loads of this instance still share their answers.
		long nanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(Math.max(0, this.clock.millis() - wallMillis));
		this.recentEvictions.asMap()
			.merge(hash, new Eviction(nanos, wallMillis),
					(heard, earlier) -> (heard.wallMillis() >= earlier.wallMillis()) ? heard : earlier);
	}

	/**
	 * Stops trusting every local entry: each is read again on its next use. The entries are not
	 * dropped, so that a key whose re-read fails because PostgreSQL is down is still served within
	 * stale-if-error, as it would have been without the eviction. (Heartbeats resuming after a
	 * Redis outage trigger this; PostgreSQL may well be down at that moment too.)
	 */
	@Override
	public void evictAll() {
		this.lastEvictAll = System.nanoTime();
		this.untrustedThrough = this.elapsed.monotonicMillis();
	}

	/** Number of keys held in process (approximate), for metrics and tests. */
	public long localSize() {
		return (this.local != null) ? this.local.synchronous().estimatedSize() : 0;
	}

	/**
	 * Caffeine's loader, used only by refresh-ahead (requests load through {@link #findByHash},
	 * which also passes the stale fallback).
	 * <p>
	 * A refresh that cannot reach Redis or the store leaves the entry as it is: it is served
	 * until its TTL runs out and is then read again on a request, with the stale-if-error rules
	 * of that path.
	 */
	private final class RefreshAhead implements AsyncCacheLoader<KeyHash, CachedLookup> {

		@Override
		public CompletableFuture<CachedLookup> asyncLoad(KeyHash hash, Executor executor) {
			return bounded(load(hash, null, TieredApiKeyLookup.this.elapsed.monotonicMillis()),
					CachedLookup.failed(LOAD_NEVER_ENDED));
		}

		@Override
		public CompletableFuture<CachedLookup> asyncReload(KeyHash hash, CachedLookup current, Executor executor) {
			return bounded(load(hash, null, TieredApiKeyLookup.this.elapsed.monotonicMillis())
				.map((answer) -> answer.isFailure() ? current : answer), current);
		}

	}

	/**
	 * When this instance heard of a change to a key: {@code nanos} on this instance's own clock,
	 * to compare with its own loads; {@code wallMillis}, to compare with when another instance
	 * read an answer.
	 */
	private record Eviction(long nanos, long wallMillis) {
	}

	/** Entries live until the latest moment they could still be used (as stale, if allowed). */
	private final class LocalExpiry implements Expiry<KeyHash, CachedLookup> {

		@Override
		public long expireAfterCreate(KeyHash key, CachedLookup value, long currentTime) {
			if (value.isFailure()) {
				return 0;
			}
			long maxAge = TieredApiKeyLookup.this.policy.maxLocalAge().toMillis();
			long until = value.found() ? Math.max(value.checkAfter(), value.readAt() + maxAge) : value.checkAfter();
			long now = TieredApiKeyLookup.this.elapsed.monotonicMillis();
			return TimeUnit.MILLISECONDS.toNanos(Math.max(0, until - now));
		}

		@Override
		public long expireAfterUpdate(KeyHash key, CachedLookup value, long currentTime, long currentDuration) {
			return expireAfterCreate(key, value, currentTime);
		}

		@Override
		public long expireAfterRead(KeyHash key, CachedLookup value, long currentTime, long currentDuration) {
			return currentDuration;
		}

	}

}
