package dev.keyauth.store;

/**
 * A token bucket: {@code requestsPerSecond} tokens are added each second, up to {@code burst}.
 */
public record RateLimit(int requestsPerSecond, int burst) {

	/** The highest rate a key or a route may be given. */
	public static final int MAX_REQUESTS_PER_SECOND = 100_000;

	/** The largest burst a key or a route may be given. */
	public static final int MAX_BURST = 10 * MAX_REQUESTS_PER_SECOND;

	public RateLimit {
		if (requestsPerSecond <= 0 || burst < requestsPerSecond) {
			throw new IllegalArgumentException("a rate limit needs requestsPerSecond > 0 and burst >= requestsPerSecond");
		}
	}

}
