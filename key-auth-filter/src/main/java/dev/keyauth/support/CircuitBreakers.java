package dev.keyauth.support;

import java.time.Duration;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

/**
 * The circuit breakers in front of the plugin's calls to PostgreSQL and Redis. A call that fails
 * or times out costs its caller the timeout; once most calls do, asking at all only adds that
 * timeout to every request, so the breaker answers for the service until a probe says it is back.
 */
public final class CircuitBreakers {

	private CircuitBreakers() {
	}

	/**
	 * Opens after half of the last 20 calls (at least 10) failed or took the whole
	 * {@code timeout}; probes again after a second with a couple of calls.
	 */
	public static CircuitBreaker forCallsWithin(String name, Duration timeout) {
		return CircuitBreaker.of(name, CircuitBreakerConfig.custom()
			.slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
			.slidingWindowSize(20)
			.minimumNumberOfCalls(10)
			.failureRateThreshold(50)
			.slowCallDurationThreshold(timeout)
			.slowCallRateThreshold(100)
			.waitDurationInOpenState(Duration.ofSeconds(1))
			.permittedNumberOfCallsInHalfOpenState(2)
			// An open breaker refuses every call, one per request: its refusal needs no stack
			// trace, which would cost each of them a stack walk (and, where a caller such as the
			// gateway's rate limiter logs it, a screenful of log).
			.writableStackTraceEnabled(false)
			.build());
	}

}
