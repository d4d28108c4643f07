package dev.keyauth.ratelimit;

import java.time.Duration;
import java.util.List;

import dev.keyauth.support.CircuitBreakers;
import dev.keyauth.support.Timeouts;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import reactor.core.publisher.Flux;

import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * A {@link ReactiveStringRedisTemplate} whose scripts (Spring Cloud Gateway's token bucket) end
 * within a timeout, behind a circuit breaker, for the gateway's own {@code RedisRateLimiter}.
 * <p>
 * That limiter sets no timeout of its own, so a Redis that accepts commands but does not answer
 * held each rate-limited request for Lettuce's command timeout (a minute by Spring Boot's
 * default). Here such a call fails after {@code timeout}, and at once while the breaker is open,
 * and the gateway's limiter does what it does with any Redis failure: it lets the request
 * through, with {@code X-RateLimit-Remaining: -1}. Only the three-argument {@code execute} of a
 * script is bounded, the one the gateway's limiter calls; every other call is the template's.
 */
public class BoundedScriptRedisTemplate extends ReactiveStringRedisTemplate {

	private final Duration timeout;

	private final CircuitBreaker breaker;

	private final CircuitBreakerOperator<Object> guarded;

	public BoundedScriptRedisTemplate(ReactiveRedisConnectionFactory connectionFactory, Duration timeout) {
		super(connectionFactory);
		this.timeout = timeout;
		this.breaker = CircuitBreakers.forCallsWithin("keyauth-gateway-ratelimit", timeout);
		this.guarded = CircuitBreakerOperator.of(this.breaker);
	}

	/** The breaker in front of the scripts: open while Redis is failing, so that nothing waits for it. */
	public CircuitBreaker breaker() {
		return this.breaker;
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T> Flux<T> execute(RedisScript<T> script, List<String> keys, List<?> args) {
		// The operator passes every element on untouched, so one instance serves every type.
		Flux<Object> bounded = (Flux<Object>) Timeouts.within(super.execute(script, keys, args), this.timeout);
		return (Flux<T>) bounded.transformDeferred(this.guarded);
	}

}
