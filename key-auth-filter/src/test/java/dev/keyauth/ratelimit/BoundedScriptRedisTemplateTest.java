package dev.keyauth.ratelimit;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

import dev.keyauth.test.TcpProxy;
import dev.keyauth.test.TestRedis;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's token-bucket script through the bounded template, against the real Redis behind
 * a proxy that stops carrying bytes: the call ends within the template's timeout, not Lettuce's
 * minute, and once most calls have, the breaker answers at once.
 */
class BoundedScriptRedisTemplateTest {

	private final RedisScript<Long> script = RedisScript.of("return 1", Long.class);

	@Test
	void aScriptThatRedisDoesNotAnswerEndsWithinTheTimeoutAndThenTheBreakerAnswers() {
		try (TcpProxy proxy = new TcpProxy(TestRedis.host(), TestRedis.port())) {
			LettuceConnectionFactory factory = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration("127.0.0.1", proxy.port()),
					LettuceClientConfiguration.builder().commandTimeout(Duration.ofMinutes(1)).build());
			factory.afterPropertiesSet();
			factory.start();
			try {
				// Loaded into Redis and run once without a bound, so that the first bounded call is
				// not a slow machine's first call.
				new ReactiveStringRedisTemplate(factory).execute(this.script, List.of("k"), List.of())
					.blockLast(Duration.ofSeconds(10));
				BoundedScriptRedisTemplate template = new BoundedScriptRedisTemplate(factory, Duration.ofMillis(500));
				StepVerifier.create(template.execute(this.script, List.of("k"), List.of()))
					.expectNext(1L)
					.verifyComplete();

				proxy.blackHoleOpenConnections();
				// Ten calls in all, the one that succeeded among them: the breaker's minimum.
				for (int i = 0; i < 9; i++) {
					StepVerifier.create(template.execute(this.script, List.of("k"), List.of()))
						.expectError(TimeoutException.class)
						.verify(Duration.ofSeconds(10));
				}
				assertThat(template.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
				// Refused at once, without a stack trace (one refusal per request while Redis is out).
				StepVerifier.create(template.execute(this.script, List.of("k"), List.of()))
					.expectErrorSatisfies((ex) -> {
						assertThat(ex).isInstanceOf(CallNotPermittedException.class);
						assertThat(ex.getStackTrace()).isEmpty();
					})
					.verify(Duration.ofSeconds(10));
			}
			finally {
				factory.destroy();
			}
		}
	}

}
