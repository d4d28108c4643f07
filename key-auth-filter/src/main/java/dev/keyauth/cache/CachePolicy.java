package dev.keyauth.cache;

import java.time.Duration;

/**
 * How long each tier keeps and trusts an answer.
 *
 * @param localTtl how long this instance uses a found key before asking Redis/PostgreSQL again,
 * while its invalidation subscription is confirmed
 * @param negativeTtl how long "no such key" is kept, here and in Redis
 * @param redisTtl how long a found key lives in Redis
 * @param unconfirmedTrust how long a local entry is trusted beyond the last confirmation that
 * every invalidation has arrived (or beyond its own arrival, whichever is later)
 * @param staleIfError how long after it was read from PostgreSQL a found key keeps working
 * while PostgreSQL cannot be reached; zero to never use stale answers
 * @param storeRetryInterval while serving stale answers, how long to wait before asking the
 * store again for the same key
 * @param refreshAhead how long before {@code localTtl} runs out a found key that is still in use
 * is read again in the background; zero for none. At most half of {@code localTtl}.
 */
public record CachePolicy(Duration localTtl, Duration negativeTtl, Duration redisTtl, Duration unconfirmedTrust,
		Duration staleIfError, Duration storeRetryInterval, Duration refreshAhead) {

	public CachePolicy {
		if (refreshAhead == null || refreshAhead.isNegative()) {
			refreshAhead = Duration.ZERO;
		}
		// Capped rather than refused: a short TTL set on its own must not need a second setting.
		// Beyond half the TTL, every answer would be re-read almost as soon as it arrived.
		Duration half = localTtl.dividedBy(2);
		if (refreshAhead.compareTo(half) > 0) {
			refreshAhead = half;
		}
	}

	/** Without refresh-ahead: a key is read again when a request finds its TTL run out. */
	public CachePolicy(Duration localTtl, Duration negativeTtl, Duration redisTtl, Duration unconfirmedTrust,
			Duration staleIfError, Duration storeRetryInterval) {
		this(localTtl, negativeTtl, redisTtl, unconfirmedTrust, staleIfError, storeRetryInterval, Duration.ZERO);
	}

	/** How long a local entry may be kept at all (it may serve stale while the store is down). */
	Duration maxLocalAge() {
		return (this.staleIfError.compareTo(this.localTtl) > 0) ? this.staleIfError : this.localTtl;
	}

}
