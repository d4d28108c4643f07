package dev.keyauth.store;

/**
 * A token bucket: {@code requestsPerSecond} tokens are added each second, up to {@code burst}.
 */
public record RateLimit(int requestsPerSecond, int burst) {

	public RateLimit {
		if (requestsPerSecond <= 0 || burst < requestsPerSecond) {
			throw new IllegalArgumentException("a rate limit needs requestsPerSecond > 0 and burst >= requestsPerSecond");
		}
	}

}
