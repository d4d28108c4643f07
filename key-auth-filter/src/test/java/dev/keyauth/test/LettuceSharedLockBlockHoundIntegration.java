package dev.keyauth.test;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Lettuce 6.8 guards each connection's writes with a {@code ReentrantLock} (its
 * {@code SharedLock}): two threads writing to the shared connection at the same moment, or a
 * write while the connection closes, wait on it for a moment. Internal to the client, bounded,
 * and not something the plugin can avoid on an event loop.
 * <p>
 * It must also be allowed rather than reported for a second reason: BlockHound throws from the
 * park inside {@code ReentrantLock.lock()}, after the thread has joined the lock's wait queue,
 * and the JDK's lock does not expect an exception there; the abandoned entry stays first in the
 * queue, and later contended lockers park behind it for good. That is what one CI run's thread
 * dump showed while a test gateway shut down (main parked in {@code SharedLock.doExclusive}, an
 * event loop spinning in {@code incrementWriters}), and another run logged a
 * {@code BlockingOperationError} from a Redis write on an event loop.
 * <p>
 * Resilience4j's count-based circuit breaker records each outcome under a {@code ReentrantLock}
 * of its own, taken on whichever thread the call ends on: the same kind of short, internal wait,
 * allowed for the same reasons (many Redis calls ending at once on both event loops contend for
 * it, as in {@code RedisKeyCacheTracingTest}); and an open breaker moves to half-open under
 * another, which two calls arriving at once after the wait contend for (seen once, from a
 * background invalidation retry, once blocking calls whose error was handled failed tests).
 * <p>
 * Spring Data Redis's connection factory takes a {@code ReentrantLock} of its own on every call,
 * to hand out its shared connection: for a null check once the connection is open, taken also by
 * the heartbeats' thread. That moment is allowed; what the lock can also hold, the blocking
 * connect of a connection not yet open, is not: {@code RedisConnectionOpener} keeps calls on
 * non-blocking threads away from that, and BlockHound reports it if one gets there.
 */
public class LettuceSharedLockBlockHoundIntegration implements BlockHoundIntegration {

	@Override
	public void applyTo(BlockHound.Builder builder) {
		builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "incrementWriters");
		builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "doExclusive");
		builder.allowBlockingCallsInside("io.github.resilience4j.core.metrics.FixedSizeSlidingWindowMetrics", "record");
		builder.allowBlockingCallsInside(
				"io.github.resilience4j.circuitbreaker.internal.CircuitBreakerStateMachine$OpenState", "toHalfOpenState");
		builder.allowBlockingCallsInside("org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory",
				"doInLock");
		builder.disallowBlockingCallsInside("io.lettuce.core.AbstractRedisClient", "getConnection");
	}

}
