package dev.keyauth.support;

import java.util.concurrent.TimeUnit;

/**
 * Milliseconds that only move forward, for the intervals one instance measures for itself: how
 * long a cached answer is trusted, how long ago the last invalidation heartbeat came back.
 * <p>
 * The wall clock must not measure those. NTP, a VM resumed from a snapshot or an operator can
 * step it back, and every interval that straddles the step then grows by the step. Measured on
 * the wall clock, a step back of an hour left a cached key trusted for that hour without any
 * proof that revocations still arrived, and the heartbeats sent after the step were taken for
 * old ones and ignored. The wall clock stays where a time must mean the same on every instance:
 * key expiry, when an answer was read from the store (it travels through Redis), last use.
 * <p>
 * Readings are comparable only within one JVM, and are always positive, so that zero can stand
 * for "never".
 */
@FunctionalInterface
public interface MonotonicClock {

	/** The JVM's own monotonic time ({@link System#nanoTime()}), in milliseconds. */
	MonotonicClock SYSTEM = new MonotonicClock() {

		// One origin for the whole JVM: the heartbeats' send times and the cache's trust are
		// compared with each other.
		private final long origin = System.nanoTime();

		@Override
		public long monotonicMillis() {
			return 1 + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - this.origin);
		}

	};

	/** Milliseconds since an origin fixed for the life of the JVM; never decreases. */
	long monotonicMillis();

}
