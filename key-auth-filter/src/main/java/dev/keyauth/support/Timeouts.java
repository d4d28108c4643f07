package dev.keyauth.support;

import java.time.Duration;
import java.util.function.Function;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * Timeouts on calls into client libraries (Lettuce, R2DBC) that always end the call.
 * <p>
 * Reactor's {@code timeout} cancels the call before it signals the {@code TimeoutException}, and
 * its timer swallows whatever that cancellation throws: if the cancellation throws, the
 * exception is lost and the call never ends, with no log line. Lettuce does throw there when
 * Spring Boot observes its commands (wherever Actuator is present): cancelling a command while
 * its observation is being started stops an observation that has no timer sample yet, and
 * Micrometer's handler throws {@code IllegalArgumentException}. Under load a few Redis calls in a
 * thousand that time out hit that window; a key lookup stuck that way held every request for its
 * key on that instance (bench/RESULTS.md, "a twelfth look"), and a rate-limit batch would hold
 * its bucket's, or the usage flush every later flush.
 */
public final class Timeouts {

	private static final Log logger = LogFactory.getLog(Timeouts.class);

	// Built once: Redis calls with a timeout can be on the request path (the Redis tier, rate limits).
	private static final Function<? super Publisher<Object>, ? extends Publisher<Object>> SHIELD = Operators
		.lift((scannable, subscriber) -> new CancelShield<>(subscriber));

	private Timeouts() {
	}

	/**
	 * {@code call.timeout(timeout)}, with the call's cancellation shielded so that the
	 * {@code TimeoutException} always arrives.
	 */
	public static <T> Mono<T> within(Mono<T> call, Duration timeout) {
		return Mono.from(shielded(call)).timeout(timeout);
	}

	/**
	 * {@code call.timeout(timeout)} for a call that answers with several items: the timeout runs
	 * until the first item and between items, and the call's cancellation is shielded likewise.
	 */
	public static <T> Flux<T> within(Flux<T> call, Duration timeout) {
		return Flux.from(shielded(call)).timeout(timeout);
	}

	@SuppressWarnings("unchecked")
	private static <T> Publisher<T> shielded(Publisher<T> call) {
		// The shield passes every signal on untouched, so one instance serves every element type.
		return (Publisher<T>) SHIELD.apply((Publisher<Object>) call);
	}

	/** Passes every signal on; cancels upstream without letting an exception escape. */
	private static final class CancelShield<T> implements CoreSubscriber<T>, Subscription {

		private final CoreSubscriber<? super T> actual;

		private Subscription upstream = Operators.emptySubscription();

		CancelShield(CoreSubscriber<? super T> actual) {
			this.actual = actual;
		}

		@Override
		public Context currentContext() {
			return this.actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			this.upstream = subscription;
			this.actual.onSubscribe(this);
		}

		@Override
		public void onNext(T value) {
			this.actual.onNext(value);
		}

		@Override
		public void onError(Throwable error) {
			this.actual.onError(error);
		}

		@Override
		public void onComplete() {
			this.actual.onComplete();
		}

		@Override
		public void request(long n) {
			this.upstream.request(n);
		}

		@Override
		public void cancel() {
			try {
				this.upstream.cancel();
			}
			catch (RuntimeException ex) {
				// The call is abandoned either way; what matters is that the caller hears so.
				logger.debug("Cancelling a timed-out call threw; ignored", ex);
			}
		}

	}

}
