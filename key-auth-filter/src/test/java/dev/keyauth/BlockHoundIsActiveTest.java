package dev.keyauth;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The suite relies on BlockHound (installed for every test by blockhound-junit-platform) to fail
 * any test whose request path blocks a non-blocking thread. This proves it is really installed.
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
