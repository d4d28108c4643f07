package dev.keyauth.ratelimit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.keyauth.store.RateLimit;

/**
 * Tokens an instance has already taken from a shared Redis bucket and may spend without asking
 * Redis again: the difference between one Redis call per request and a handful per second for a
 * busy key.
 * <p>
 * A batch is {@code share} of the limit's per-second rate (at least one token, at most the
 * burst), so a key whose batch would be a single token is limited exactly, one Redis call per
 * request. Tokens not spent within {@link #LIFETIME} are dropped, never returned: the shared
 * bucket is never overdrawn, an instance that stops seeing a key's traffic leaves at most one
 * batch unused, and tokens taken at the end of one second may be spent in the next, so over any
 * window a key can get up to one batch per instance more than its bucket alone would allow.
 * <p>
 * When the bucket cannot give a whole batch, the instance asks for single tokens for the rest of
 * the lifetime, so a key at its limit costs one Redis call per request, as without batching.
 */
class LocalTokenAllowances {

	/** How long taken tokens stay spendable: the token bucket script refills once per second. */
	static final Duration LIFETIME = Duration.ofSeconds(1);

	private final double share;

	private final Cache<String, Allowance> allowances;

	/**
	 * @param share the fraction of a limit's per-second rate taken per Redis call (0 for none)
	 * @param maximumBuckets how many buckets to hold allowances for; the least recently used are
	 * dropped beyond it
	 */
	LocalTokenAllowances(double share, long maximumBuckets) {
		if (share < 0 || share > 1) {
			throw new IllegalArgumentException("share must be between 0 and 1");
		}
		this.share = share;
		this.allowances = Caffeine.newBuilder()
			.expireAfterWrite(LIFETIME)
			.maximumSize(maximumBuckets)
			// Read on every rate-limited request: keep the cache's upkeep on the calling thread
			// rather than waking a common-pool thread for it, as the key cache does.
			.executor(Runnable::run)
			.build();
	}

	/** The batch to ask Redis for: 1 when batching is off or the limit is too small for it. */
	int batchSize(String bucket, RateLimit limit) {
		long batch = (long) Math.floor(limit.requestsPerSecond() * this.share);
		if (batch <= 1) {
			return 1;
		}
		Allowance current = this.allowances.getIfPresent(bucket);
		return (current != null && current.scarce) ? 1 : (int) Math.min(batch, limit.burst());
	}

	/**
	 * Spends one local token of {@code bucket}.
	 * @return the tokens this instance believes remain (local plus what Redis had left), or -1
	 * when there is no local token and Redis must be asked
	 */
	long tryTake(String bucket) {
		Allowance allowance = this.allowances.getIfPresent(bucket);
		if (allowance == null) {
			return -1;
		}
		long left = allowance.tryTake();
		return (left < 0) ? -1 : left + allowance.remainingInRedis;
	}

	/** Records that Redis granted {@code granted} tokens, one of which the caller spends now. */
	void granted(String bucket, int granted, long remainingInRedis) {
		if (granted > 1) {
			this.allowances.put(bucket, new Allowance(granted - 1, remainingInRedis, false));
		}
	}

	/** Records that Redis could not give a whole batch: ask for single tokens for a while. */
	void scarce(String bucket) {
		this.allowances.put(bucket, new Allowance(0, 0, true));
	}

	static final class Allowance {

		private final AtomicLong tokens;

		final long remainingInRedis;

		final boolean scarce;

		Allowance(long tokens, long remainingInRedis, boolean scarce) {
			this.tokens = new AtomicLong(tokens);
			this.remainingInRedis = remainingInRedis;
			this.scarce = scarce;
		}

		/** The tokens left after taking one, or -1 if there was none to take. */
		long tryTake() {
			while (true) {
				long current = this.tokens.get();
				if (current <= 0) {
					return -1;
				}
				if (this.tokens.compareAndSet(current, current - 1)) {
					return current - 1;
				}
			}
		}

	}

}
