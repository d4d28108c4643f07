package dev.keyauth;

import java.time.Duration;

import dev.keyauth.test.BlockingCalls;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The suite relies on BlockHound (installed for every test by blockhound-junit-platform) to fail
 * any test whose request path blocks a non-blocking thread, also where the code under test
 * handles BlockHound's error ({@code NoBlockingCallsExtension}). This proves BlockHound is installed
 * and keeps what it finds.
 */
class BlockHoundIsActiveTest {

	@Test
	void blockingOnANonBlockingThreadFails() {
		assertThatThrownBy(() -> Mono.delay(Duration.ofMillis(1))
			.publishOn(Schedulers.parallel())
			.doOnNext((tick) -> sleep())
			.block(Duration.ofSeconds(5)))
			.satisfies((ex) -> assertThat((ex instanceof BlockingOperationError) ? ex : ex.getCause())
				.isInstanceOf(BlockingOperationError.class));
		// Kept as well, so that NoBlockingCallsExtension fails a test that catches the error; taken
		// here, as this one expects it.
		assertThat(BlockingCalls.drain()).singleElement()
			.satisfies((call) -> assertThat(call.thread()).startsWith("parallel-"))
			.satisfies((call) -> assertThat(call.error()).hasMessageContaining("Thread.sleep"));
	}

	@Test
	void blockingCallsWhoseErrorIsHandledAreKeptToo() {
		assertThat(Mono.delay(Duration.ofMillis(1))
			.publishOn(Schedulers.parallel())
			.doOnNext((tick) -> sleep())
			.onErrorReturn(-1L)
			.block(Duration.ofSeconds(5))).isEqualTo(-1L);
		assertThat(BlockingCalls.drain()).singleElement()
			.satisfies((call) -> assertThat(call.error()).hasMessageContaining("Thread.sleep"));
	}

	private static void sleep() {
		try {
			Thread.sleep(10);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
