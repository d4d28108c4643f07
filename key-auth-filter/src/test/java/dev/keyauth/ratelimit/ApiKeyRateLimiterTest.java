package dev.keyauth.ratelimit;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.store.RateLimit;
import dev.keyauth.test.Instances;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * What the limiter decides when Redis cannot be asked, and how requests share a batch request.
 * Redis itself answering is covered against a real Redis (ApiKeyRateLimiterRedisTest) and end to
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

	/**
	 * A Redis that takes every call and answers none: stuck, or cut off without a reset (the
	 * kernel closes such a connection only after 10 s, SilentRedisPartitionTest). Without the
	 * breaker every request with an empty allowance waited out the timeout, for as long as that
	 * lasted; now ten do, and the rest are decided without asking until Redis is probed again.
	 */
	@Test
	@SuppressWarnings({ "unchecked", "rawtypes" })
	void aRedisThatDoesNotAnswerIsNotWaitedForOnEveryRequest() {
		AtomicInteger asked = new AtomicInteger();
		AtomicBoolean answering = new AtomicBoolean();
		when(this.redis.execute(any(RedisScript.class), anyList(), anyList()))
			.thenAnswer((invocation) -> Flux.defer(() -> {
				asked.incrementAndGet();
				return answering.get() ? Flux.just(List.of(1L, 5L)) : Flux.never();
			}));
		// Local share 0: a Redis call for every request.
		ApiKeyRateLimiter limiter = new ApiKeyRateLimiter(this.redis,
				(RedisScript) RedisScript.of("return {1, 1}", List.class), "t:", Duration.ofMillis(20), true,
				this.failures::incrementAndGet);
		RateLimit limit = new RateLimit(100, 100);
		for (int i = 0; i < 30; i++) {
			StepVerifier.create(limiter.consume("key:k", limit))
				.assertNext((decision) -> assertThat(decision.allowed()).isTrue())
				.verifyComplete();
		}
		assertThat(asked).hasValue(10);
		assertThat(this.failures).hasValue(30);
		assertThat(limiter.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);

		// A second on, two probes reach Redis, which answers again: the breaker closes.
		answering.set(true);
		Instances.sleep(1100);
		for (int i = 0; i < 2; i++) {
			StepVerifier.create(limiter.consume("key:k", limit))
				.assertNext((decision) -> assertThat(decision.remaining()).isEqualTo(5))
				.verifyComplete();
		}
		assertThat(asked).hasValue(12);
		assertThat(limiter.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
	}

	@Test
	@SuppressWarnings({ "unchecked", "rawtypes" })
	void aBatchThatLandsWhileARequestLooksForItIsSpentNotTakenAgain() {
		// The interleaving a loaded machine produces now and then (it made
		// ApiKeyRateLimiterRedisTest take two batches once): a request finds no local tokens,
		// the batch in flight lands and is deregistered, and only then does the request look for
		// a batch in flight. Here the reply lands exactly there, from inside that request.
		Sinks.One<List<Long>> reply = Sinks.one();
		AtomicInteger batches = new AtomicInteger();
		when(this.redis.execute(any(RedisScript.class), anyList(), anyList())).thenAnswer((invocation) -> {
			batches.incrementAndGet();
			return reply.asMono().flux();
		});
		AtomicInteger looks = new AtomicInteger();
		LocalTokenAllowances allowances = new LocalTokenAllowances(0.5, 10) {

			@Override
			int batchSize(String bucket, RateLimit limit) {
				if (looks.incrementAndGet() == 2) {
					// The second request has just found no local tokens.
					reply.tryEmitValue(List.of(1L, 500L));
				}
				return super.batchSize(bucket, limit);
			}

		};
		ApiKeyRateLimiter limiter = new ApiKeyRateLimiter(this.redis,
				(RedisScript) RedisScript.of("return {1, 1}", List.class), "t:", Duration.ofSeconds(5), true,
				this.failures::incrementAndGet, allowances);
		RateLimit limit = new RateLimit(1000, 1000);
		StepVerifier.create(limiter.consume("key:k", limit).zipWith(Mono.defer(() -> limiter.consume("key:k", limit))))
			.assertNext((both) -> {
				assertThat(both.getT1().allowed()).isTrue();
				assertThat(both.getT1().remaining()).isEqualTo(999);
				// Served from the batch that landed: one of its 499 local tokens.
				assertThat(both.getT2().allowed()).isTrue();
				assertThat(both.getT2().remaining()).isEqualTo(998);
			})
			.verifyComplete();
		assertThat(batches).hasValue(1);
		assertThat(this.failures).hasValue(0);
	}

}
