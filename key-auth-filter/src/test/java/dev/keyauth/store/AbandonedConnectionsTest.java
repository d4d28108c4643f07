package dev.keyauth.store;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import org.springframework.r2dbc.core.DatabaseClient;

import static dev.keyauth.store.AbandonedConnections.physical;
import static org.assertj.core.api.Assertions.assertThat;

/** On a real r2dbc-pool of one connection, through Spring's DatabaseClient as the store uses it. */
class AbandonedConnectionsTest {

	private final ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration
		.builder(H2ConnectionFactory.inMemory("abandoned-" + System.nanoTime()))
		.initialSize(1)
		.maxSize(1)
		.build());

	private final DatabaseClient client = DatabaseClient.create(AbandonedConnections.closing(this.pool));

	@BeforeEach
	void openTheConnection() {
		// So that the timeouts below abandon the call itself, never the connection's creation.
		this.pool.warmup().block();
	}

	@AfterEach
	void close() {
		this.pool.dispose();
	}

	@Test
	void aCallThatEndsGivesItsConnectionBackForTheNextCall() {
		Connection first = physical(AbandonedConnections.guard(this.client.inConnection(Mono::just)).block());
		Connection second = physical(AbandonedConnections.guard(this.client.inConnection(Mono::just)).block());
		assertThat(second).isSameAs(first);
	}

	@Test
	void aCallAbandonedByItsTimeoutClosesItsConnectionAndTheNextCallGetsANewOne() {
		Connection[] lent = new Connection[1];
		Mono<Object> hangs = hangingCall(lent);
		StepVerifier.create(AbandonedConnections.guard(hangs).timeout(Duration.ofMillis(100)))
			.expectError(TimeoutException.class)
			.verify(Duration.ofSeconds(5));

		assertThat(lent[0]).isNotNull();
		assertThat(awaitReleased()).isTrue();
		Connection next = physical(AbandonedConnections.guard(this.client.inConnection(Mono::just)).block());
		assertThat(next).isNotSameAs(lent[0]);
		// The abandoned connection was closed, not merely dropped from the pool.
		StepVerifier.create(Mono.from(lent[0].validate(io.r2dbc.spi.ValidationDepth.LOCAL)))
			.expectNext(false)
			.verifyComplete();
	}

	@Test
	void aCallNotGuardedIsLeftAsBefore() {
		Connection[] lent = new Connection[1];
		Mono<Object> hangs = hangingCall(lent);
		StepVerifier.create(hangs.timeout(Duration.ofMillis(100)))
			.expectError(TimeoutException.class)
			.verify(Duration.ofSeconds(5));

		assertThat(lent[0]).isNotNull();
		assertThat(awaitReleased()).isTrue();
		assertThat(physical(AbandonedConnections.guard(this.client.inConnection(Mono::just)).block())).isSameAs(lent[0]);
	}

	/** A call that never ends on its connection, which it puts in {@code lent}. */
	private Mono<Object> hangingCall(Connection[] lent) {
		return this.client.inConnection((connection) -> {
			lent[0] = physical(connection);
			return Mono.never();
		});
	}

	private boolean awaitReleased() {
		long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
		while (System.nanoTime() < deadline) {
			if (this.pool.getMetrics().orElseThrow().acquiredSize() == 0) {
				return true;
			}
			Thread.onSpinWait();
		}
		return false;
	}

}
