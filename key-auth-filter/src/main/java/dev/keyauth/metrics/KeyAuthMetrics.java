package dev.keyauth.metrics;

/**
 * What the plugin reports about itself. Called on the request path: implementations only
 * increment pre-registered meters.
 */
public interface KeyAuthMetrics {

	/** Reports nothing, for applications without Micrometer. */
	KeyAuthMetrics NONE = new KeyAuthMetrics() {
	};

	/** How a request left the authentication filter, and how long the filter itself took. */
	enum Outcome {

		VALID, ANONYMOUS, MISSING, INVALID, FORBIDDEN, RATE_LIMITED, UNAVAILABLE, MISCONFIGURED;

		public String tag() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

	enum Tier {

		LOCAL, REDIS;

		public String tag() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

	default void authentication(Outcome outcome, long filterNanos) {
	}

	default void rateLimited() {
	}

	default void cache(Tier tier, boolean hit) {
	}

	default void storeLookup(long nanos, boolean succeeded) {
	}

	default void invalidationSent() {
	}

	default void invalidationReceived() {
	}

	/** The invalidation subscription was made again because Redis stopped delivering on it. */
	default void subscriptionReplaced() {
	}

	/**
	 * A Redis key cache entry was ignored: its signature did not verify, or it was older than
	 * Redis would have kept it. Either it was written by something other than a gateway with
	 * this deployment's secret, or by a version that did not sign.
	 */
	default void redisEntryRejected() {
	}

}
