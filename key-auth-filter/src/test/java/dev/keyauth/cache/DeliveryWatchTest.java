package dev.keyauth.cache;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DeliveryWatchTest {

	private final DeliveryWatch watch = new DeliveryWatch(2000);

	/** Heartbeats every 200 ms from {@code from} up to {@code to}, none delivered after {@code confirmed}. */
	private long firstReplacement(long from, long to, long confirmed) {
		for (long t = from; t <= to; t += 200) {
			if (this.watch.accepted(t, confirmed) >= 0) {
				return t;
			}
		}
		return -1;
	}

	@Test
	void heartbeatsThatComeBackNeverCallForANewSubscription() {
		for (long t = 1000; t < 60_000; t += 200) {
			// Each delivered before the next is sent.
			assertThat(this.watch.accepted(t, t - 200)).isEqualTo(-1);
		}
	}

	@Test
	void acceptedButUndeliveredForTheWaitCallsForOne() {
		assertThat(this.watch.accepted(1000, 800)).isEqualTo(-1);
		// Delivered up to 1000; from 1200 on, nothing comes back.
		assertThat(firstReplacement(1200, 10_000, 1000)).isEqualTo(3200);
	}

	@Test
	void aHeldUpHeartbeatThreadIsNotADeadSubscription() {
		assertThat(this.watch.accepted(1000, 800)).isEqualTo(-1);
		// Nothing sent between 1000 and 9000 (a long pause); the heartbeat of 1000 came back.
		assertThat(this.watch.accepted(9000, 1000)).isEqualTo(-1);
		assertThat(this.watch.accepted(9200, 9000)).isEqualTo(-1);
	}

	@Test
	void aReplacementThatDoesNotHelpDoublesTheWaitUpToAMinute() {
		long replaced = firstReplacement(0, 100_000, 0);
		assertThat(replaced).isEqualTo(2200);
		long previous = replaced;
		long[] expectedWaits = { 4000, 8000, 16_000, 32_000, 60_000, 60_000 };
		for (long expected : expectedWaits) {
			long next = firstReplacement(previous + 200, previous + 200 + 120_000, 0);
			// The wait counts from the first heartbeat after the replacement.
			assertThat(next - (previous + 200)).isEqualTo(expected);
			previous = next;
		}
	}

	@Test
	void aReplacementThatHelpsResetsTheWait() {
		long replaced = firstReplacement(0, 100_000, 0);
		// The new subscription delivers the next heartbeat, then stops again.
		assertThat(this.watch.accepted(replaced + 200, replaced + 200)).isEqualTo(-1);
		long next = firstReplacement(replaced + 400, replaced + 400 + 120_000, replaced + 200);
		assertThat(next - (replaced + 400)).isEqualTo(2000);
	}

}
