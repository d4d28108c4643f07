package dev.keyauth.support;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

class TimeoutsTest {

	private final AtomicInteger cancels = new AtomicInteger();

	/** A call that never answers and throws when cancelled, as Lettuce can with tracing on. */
	private Mono<String> stuckCallWhoseCancelThrows() {
		return Mono.from((subscriber) -> subscriber.onSubscribe(new Subscription() {

			@Override
			public void request(long n) {
			}

			@Override
			public void cancel() {
				TimeoutsTest.this.cancels.incrementAndGet();
				throw new IllegalArgumentException("Context does not have an entry for key [Timer$Sample]");
			}

		}));
	}

	@Test
	void theTimeoutArrivesEvenWhenCancellingTheCallThrows() {
		StepVerifier.create(Timeouts.within(stuckCallWhoseCancelThrows(), Duration.ofMillis(50)))
			.expectError(TimeoutException.class)
			.verify(Duration.ofSeconds(5));
		assertThat(this.cancels).hasValue(1);
	}

	/**
	 * Why {@link Timeouts} exists: Reactor's own timeout cancels first, and its timer swallows
	 * what the cancellation throws, so nothing ever arrives. Should Reactor change that, this
	 * test fails and the shield may go.
	 */
	@Test
	void reactorsOwnTimeoutNeverEndsSuchACall() {
		StepVerifier.create(stuckCallWhoseCancelThrows().timeout(Duration.ofMillis(50)))
			.expectSubscription()
			.expectNoEvent(Duration.ofMillis(500))
			.thenCancel()
			.verify(Duration.ofSeconds(5));
		assertThat(this.cancels).hasValue(1);
	}

	@Test
	void aFluxCallIsShieldedLikewise() {
		StepVerifier.create(Timeouts.within(Flux.from(stuckCallWhoseCancelThrows()), Duration.ofMillis(50)))
			.expectError(TimeoutException.class)
			.verify(Duration.ofSeconds(5));
		StepVerifier.create(Timeouts.within(Flux.just("a", "b"), Duration.ofSeconds(1)))
			.expectNext("a", "b")
			.verifyComplete();
	}

	@Test
	void valuesErrorsAndEmptinessPassThrough() {
		StepVerifier.create(Timeouts.within(Mono.just("v"), Duration.ofSeconds(1))).expectNext("v").verifyComplete();
		StepVerifier.create(Timeouts.within(Mono.empty(), Duration.ofSeconds(1))).verifyComplete();
		StepVerifier.create(Timeouts.within(Mono.error(new IllegalStateException("down")), Duration.ofSeconds(1)))
			.verifyErrorMessage("down");
	}

	@Test
	void aSlowCallThatCancelsCleanlyTimesOutAsUsual() {
		StepVerifier.create(Timeouts.within(Mono.never(), Duration.ofMillis(50)))
			.expectError(TimeoutException.class)
			.verify(Duration.ofSeconds(5));
	}

}
