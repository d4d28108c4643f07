package dev.keyauth.filter;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

class ReadyValuesTest {

	@Test
	void aCompleteMonoGivesItsValue() {
		assertThat(ReadyValues.now(Mono.just("hit"))).isEqualTo("hit");
	}

	@Test
	void emptyFailedAndPendingMonosGiveNothing() {
		assertThat(ReadyValues.<String>now(Mono.empty())).isNull();
		assertThat(ReadyValues.<String>now(Mono.error(new IllegalStateException("down")))).isNull();
		assertThat(ReadyValues.now(Mono.just("later").delayElement(Duration.ofSeconds(1)))).isNull();
	}

	@Test
	void workStillToBeDoneIsNotStartedByLooking() {
		AtomicInteger calls = new AtomicInteger();
		Mono<Integer> lazy = Mono.fromCallable(calls::incrementAndGet);
		assertThat(ReadyValues.now(lazy)).isNull();
		assertThat(calls).hasValue(0);
	}

}
