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
 */
public record CachePolicy(Duration localTtl, Duration negativeTtl, Duration redisTtl, Duration unconfirmedTrust,
		Duration staleIfError, Duration storeRetryInterval) {

	/** How long a local entry may be kept at all (it may serve stale while the store is down). */
	Duration maxLocalAge() {
		return (this.staleIfError.compareTo(this.localTtl) > 0) ? this.staleIfError : this.localTtl;
	}

}
