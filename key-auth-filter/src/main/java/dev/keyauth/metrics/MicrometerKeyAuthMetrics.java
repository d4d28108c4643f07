package dev.keyauth.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The plugin's meters:
 * <ul>
 * <li>{@code keyauth.authentications} (counter, tag {@code outcome}: valid, anonymous, missing,
 * invalid, forbidden, rate_limited, unavailable, misconfigured);</li>
 * <li>{@code keyauth.filter} (timer): time spent in the authentication filter itself, not
 * downstream;</li>
 * <li>{@code keyauth.cache.requests} (counter, tags {@code tier}: local, redis; {@code result}:
 * hit, miss);</li>
 * <li>{@code keyauth.store.lookups} (timer, tag {@code result}: success, error): key store query
 * latency;</li>
 * <li>{@code keyauth.invalidations} (counter, tag {@code direction}: sent, received);</li>
 * <li>{@code keyauth.invalidation.resubscriptions} (counter): subscriptions made again because
 * Redis accepted heartbeats but stopped delivering them (a connection dead but still open);</li>
 * <li>{@code keyauth.cache.redis.rejected} (counter): Redis key cache entries ignored because their
 * signature did not verify or they were older than Redis would have kept them.</li>
 * </ul>
 * Every meter is registered up front, so reporting never allocates or looks anything up.
 */
public class MicrometerKeyAuthMetrics implements KeyAuthMetrics {

	private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);

	private final Timer filter;

	private final Counter localHit;

	private final Counter localMiss;

	private final Counter redisHit;

	private final Counter redisMiss;

	private final Timer storeSuccess;

	private final Timer storeError;

	private final Counter sent;

	private final Counter received;

	private final Counter resubscriptions;

	private final Counter redisRejected;

	public MicrometerKeyAuthMetrics(MeterRegistry registry) {
		for (Outcome outcome : Outcome.values()) {
			this.outcomes.put(outcome, Counter.builder("keyauth.authentications")
				.description("Requests by authentication outcome")
				.tag("outcome", outcome.tag())
				.register(registry));
		}
		this.filter = Timer.builder("keyauth.filter")
			.description("Time spent in the API-key authentication filter itself")
			.register(registry);
		this.localHit = cache(registry, Tier.LOCAL, "hit");
		this.localMiss = cache(registry, Tier.LOCAL, "miss");
		this.redisHit = cache(registry, Tier.REDIS, "hit");
		this.redisMiss = cache(registry, Tier.REDIS, "miss");
		this.storeSuccess = store(registry, "success");
		this.storeError = store(registry, "error");
		this.sent = invalidations(registry, "sent");
		this.received = invalidations(registry, "received");
		this.resubscriptions = Counter.builder("keyauth.invalidation.resubscriptions")
			.description("Invalidation subscriptions made again on a new connection")
			.register(registry);
		this.redisRejected = Counter.builder("keyauth.cache.redis.rejected")
			.description("Redis key cache entries ignored: signature not verified, or older than Redis keeps them")
			.register(registry);
	}

	private static Counter cache(MeterRegistry registry, Tier tier, String result) {
		return Counter.builder("keyauth.cache.requests")
			.description("Key cache lookups by tier and result")
			.tag("tier", tier.tag())
			.tag("result", result)
			.register(registry);
	}

	private static Timer store(MeterRegistry registry, String result) {
		return Timer.builder("keyauth.store.lookups")
			.description("Key store (PostgreSQL) lookups")
			.tag("result", result)
			.register(registry);
	}

	private static Counter invalidations(MeterRegistry registry, String direction) {
		return Counter.builder("keyauth.invalidations")
			.description("Key invalidation messages")
			.tag("direction", direction)
			.register(registry);
	}

	@Override
	public void authentication(Outcome outcome, long filterNanos) {
		this.outcomes.get(outcome).increment();
		this.filter.record(filterNanos, TimeUnit.NANOSECONDS);
	}

	@Override
	public void rateLimited() {
		this.outcomes.get(Outcome.RATE_LIMITED).increment();
	}

	@Override
	public void cache(Tier tier, boolean hit) {
		if (tier == Tier.LOCAL) {
			(hit ? this.localHit : this.localMiss).increment();
		}
		else {
			(hit ? this.redisHit : this.redisMiss).increment();
		}
	}

	@Override
	public void storeLookup(long nanos, boolean succeeded) {
		(succeeded ? this.storeSuccess : this.storeError).record(nanos, TimeUnit.NANOSECONDS);
	}

	@Override
	public void invalidationSent() {
		this.sent.increment();
	}

	@Override
	public void invalidationReceived() {
		this.received.increment();
	}

	@Override
	public void subscriptionReplaced() {
		this.resubscriptions.increment();
	}

	@Override
	public void redisEntryRejected() {
		this.redisRejected.increment();
	}

}
