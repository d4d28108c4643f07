package dev.keyauth.test;

import java.util.concurrent.atomic.AtomicInteger;

import org.reactivestreams.Subscription;
import reactor.core.publisher.Mono;

/**
 * A call into a client library that never answers and throws when cancelled, as Lettuce can when
 * its commands are observed: Reactor's own {@code timeout} never ends such a call.
 */
public final class StuckCall {

	private final AtomicInteger cancels = new AtomicInteger();

	/** How many times a subscription to {@link #mono()} was cancelled. */
	public int cancels() {
		return this.cancels.get();
	}

	public <T> Mono<T> mono() {
		return Mono.from((subscriber) -> subscriber.onSubscribe(new Subscription() {

			@Override
			public void request(long n) {
			}

			@Override
			public void cancel() {
				StuckCall.this.cancels.incrementAndGet();
				throw new IllegalArgumentException("Context does not have an entry for key [Timer$Sample]");
			}

		}));
	}

}
