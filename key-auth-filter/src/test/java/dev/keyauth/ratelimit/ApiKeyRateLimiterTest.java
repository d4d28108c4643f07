package dev.keyauth.ratelimit;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.store.RateLimit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * What the limiter decides when Redis cannot be asked. Redis itself answering is covered end to
 * end (LifecycleAndPolicyTest, MultiInstanceTest, DegradedModesTest).
 */
class ApiKeyRateLimiterTest {

	private final ReactiveStringRedisTemplate redis = mock(ReactiveStringRedisTemplate.class);

	private final AtomicInteger failures = new AtomicInteger();

	@SuppressWarnings({ "unchecked", "rawtypes" })
	private ApiKeyRateLimiter limiter(boolean failOpen) {
		when(this.redis.execute(any(RedisScript.class), anyList(), anyList()))
			.thenReturn(Flux.error(new IllegalStateException("Redis down")));
		return new ApiKeyRateLimiter(this.redis, (RedisScript) RedisScript.of("return {1, 1}", List.class), "t:",
				Duration.ofMillis(100), failOpen, this.failures::incrementAndGet);
	}

	@Test
	void failOpenAllowsAndCounts() {
		StepVerifier.create(limiter(true).consume("key:k", new RateLimit(1, 1)))
			.assertNext((decision) -> assertThat(decision.allowed()).isTrue())
			.verifyComplete();
		assertThat(this.failures).hasValue(1);
	}

	@Test
	void failClosedRefuses() {
		StepVerifier.create(limiter(false).consume("key:k", new RateLimit(1, 1)))
			.assertNext((decision) -> assertThat(decision.allowed()).isFalse())
			.verifyComplete();
		assertThat(this.failures).hasValue(1);
	}

}
