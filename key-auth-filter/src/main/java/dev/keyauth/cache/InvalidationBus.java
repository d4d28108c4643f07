package dev.keyauth.cache;

import dev.keyauth.key.KeyHash;
import reactor.core.publisher.Mono;

/**
 * Carries "drop what you cache for this key" to every gateway instance, and says how far this
 * instance can vouch that it has heard every such message.
 */
public interface InvalidationBus {

	/** Tells every instance (this one included) to evict the key. */
	Mono<Void> publish(KeyHash hash);

	/**
	 * The time, in this instance's {@link dev.keyauth.support.MonotonicClock} milliseconds, up
	 * to which every invalidation published anywhere is known to have reached this instance; 0
	 * before the first proof. {@link Long#MAX_VALUE} when there is nobody else to hear from.
	 */
	long confirmedThrough();

	/** For a single instance without Redis: there are no other instances to hear from. */
	InvalidationBus LOCAL = new InvalidationBus() {

		@Override
		public Mono<Void> publish(KeyHash hash) {
			return Mono.empty();
		}

		@Override
		public long confirmedThrough() {
			return Long.MAX_VALUE;
		}

	};

}
