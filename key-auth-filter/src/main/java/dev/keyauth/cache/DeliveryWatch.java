package dev.keyauth.cache;

/**
 * Tells, from the heartbeats Redis accepts and those it delivers, when the invalidation
 * subscription is dead although its connection is still open. One thread only (the heartbeat
 * thread); times are the heartbeats' send times, in milliseconds.
 * <p>
 * It counts from the oldest heartbeat Redis accepted that has not come back, not from the last
 * one that did, so that a heartbeat thread that was merely held up (a long GC pause) does not
 * pass for a dead subscription. After a replacement that did not help (no heartbeat sent since
 * has come back), the wait doubles, up to a minute: a Redis that takes publishes but never
 * delivers them (behind a proxy without pub/sub, say) costs a new connection and a warning now
 * and then, not every few seconds.
 */
final class DeliveryWatch {

	private static final long LONGEST_WAIT = 60_000;

	private final long replaceAfter;

	private long wait;

	private long oldestUndelivered;

	private long replacedAfter;

	/** @param replaceAfter how long accepted heartbeats may go undelivered at first */
	DeliveryWatch(long replaceAfter) {
		this.replaceAfter = replaceAfter;
		this.wait = replaceAfter;
	}

	/**
	 * Redis accepted the heartbeat sent at {@code sentAt}; the last one delivered was sent at
	 * {@code confirmedThrough}.
	 * @return for how long heartbeats have gone undelivered if the subscription should be made
	 * again now, else -1
	 */
	long accepted(long sentAt, long confirmedThrough) {
		if (confirmedThrough >= this.replacedAfter) {
			this.wait = this.replaceAfter;
		}
		if (this.oldestUndelivered <= confirmedThrough) {
			this.oldestUndelivered = sentAt;
		}
		long undeliveredFor = sentAt - this.oldestUndelivered;
		if (undeliveredFor < this.wait) {
			return -1;
		}
		this.oldestUndelivered = 0;
		this.replacedAfter = sentAt + 1;
		this.wait = Math.min(2 * this.wait, Math.max(LONGEST_WAIT, this.replaceAfter));
		return undeliveredFor;
	}

}
