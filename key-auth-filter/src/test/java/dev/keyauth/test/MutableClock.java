package dev.keyauth.test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import dev.keyauth.support.MonotonicClock;

/**
 * A clock tests move by hand: the wall clock and, apart from it, the monotonic one. Their
 * readings start far apart, as the real ones do, so code that compares one with the other fails
 * its tests instead of passing by coincidence.
 */
public final class MutableClock extends Clock implements MonotonicClock {

	private volatile Instant now;

	private volatile long monotonicMillis = 1_000_000;

	public MutableClock(Instant now) {
		this.now = now;
	}

	/** Time passes: both clocks move. */
	public void advance(Duration duration) {
		this.now = this.now.plus(duration);
		this.monotonicMillis += duration.toMillis();
	}

	/** The wall clock alone is set, forwards or back, as NTP or an operator may step it. */
	public void stepWallClock(Duration step) {
		this.now = this.now.plus(step);
	}

	@Override
	public long monotonicMillis() {
		return this.monotonicMillis;
	}

	@Override
	public ZoneId getZone() {
		return ZoneOffset.UTC;
	}

	@Override
	public Clock withZone(ZoneId zone) {
		return this;
	}

	@Override
	public Instant instant() {
		return this.now;
	}

}
