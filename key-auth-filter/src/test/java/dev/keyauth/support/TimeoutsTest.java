package dev.keyauth.support;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

import dev.keyauth.test.StuckCall;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

class TimeoutsTest {

	private final StuckCall stuck = new StuckCall();

	@Test
	void theTimeoutArrivesEvenWhenCancellingTheCallThrows() {
		StepVerifier.create(Timeouts.within(this.stuck.<String>mono(), Duration.ofMillis(50)))
			.expectError(TimeoutException.class)
			.verify(Duration.ofSeconds(5));
		assertThat(this.stuck.cancels()).isEqualTo(1);
	}

	/**
	 * Why {@link Timeouts} exists: Reactor's own timeout cancels first, and its timer swallows
	 * what the cancellation throws, so nothing ever arrives. Should Reactor change that, this
	 * test fails and the shield may go.
	 */
	@Test
	void reactorsOwnTimeoutNeverEndsSuchACall() {
		StepVerifier.create(this.stuck.<String>mono().timeout(Duration.ofMillis(50)))
			.expectSubscription()
			.expectNoEvent(Duration.ofMillis(500))
			.thenCancel()
			.verify(Duration.ofSeconds(5));
		assertThat(this.stuck.cancels()).isEqualTo(1);
	}

	@Test
	void aFluxCallIsShieldedLikewise() {
		StepVerifier.create(Timeouts.within(Flux.from(this.stuck.<String>mono()), Duration.ofMillis(50)))
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
