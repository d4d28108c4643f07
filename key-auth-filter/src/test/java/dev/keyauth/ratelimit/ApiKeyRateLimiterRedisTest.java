package dev.keyauth.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import dev.keyauth.ratelimit.ApiKeyRateLimiter.Decision;
import dev.keyauth.store.RateLimit;
import dev.keyauth.test.TestRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The limiter against a real Redis and Spring Cloud Gateway's own token-bucket script: batches
 * taken for local spending never overdraw the shared bucket, and small limits stay exact.
 */
class ApiKeyRateLimiterRedisTest {

	private static LettuceConnectionFactory connectionFactory;

	private static ReactiveStringRedisTemplate redis;

	private static RedisScript<List<Long>> script;

	private final String prefix = "rl-test-" + UUID.randomUUID() + ":";

	@BeforeAll
	@SuppressWarnings({ "unchecked", "rawtypes" })
	static void connect() {
		connectionFactory = TestRedis.connectionFactory();
		redis = new ReactiveStringRedisTemplate(connectionFactory);
		// The script Spring Cloud Gateway registers as RedisRateLimiter.REDIS_SCRIPT_NAME.
		script = (RedisScript) RedisScript.of(new ClassPathResource("META-INF/scripts/request_rate_limiter.lua"),
				List.class);
		assertThat(RedisRateLimiter.REDIS_SCRIPT_NAME).isNotBlank();
	}

	@AfterAll
	static void disconnect() {
		connectionFactory.destroy();
	}

	private ApiKeyRateLimiter limiter(double share) {
		return new ApiKeyRateLimiter(redis, script, this.prefix, Duration.ofSeconds(2), true, () -> {
			throw new AssertionError("Redis failed");
		}, share);
	}

	private Decision consume(ApiKeyRateLimiter limiter, RateLimit limit) {
		return limiter.consume("key:k", limit).block(Duration.ofSeconds(5));
	}

	private long tokensInRedis() {
		return Long.parseLong(redis.opsForValue().get(this.prefix + "{key:k}.tokens").block(Duration.ofSeconds(5)));
	}

	@Test
	void aBatchIsTakenOnceAndSpentLocally() {
		ApiKeyRateLimiter limiter = limiter(0.1);
		RateLimit limit = new RateLimit(100, 100);
		Decision first = consume(limiter, limit);
		assertThat(first.allowed()).isTrue();
		// One call took a batch of 10 (a tenth of the rate) out of the full bucket of 100.
		assertThat(tokensInRedis()).isEqualTo(90);
		assertThat(first.remaining()).isEqualTo(99);
		for (int i = 0; i < 9; i++) {
			Decision local = consume(limiter, limit);
			assertThat(local.allowed()).isTrue();
			assertThat(local.remaining()).isEqualTo(98 - i);
		}
		// The nine were spent without asking Redis: its bucket has not moved.
		assertThat(tokensInRedis()).isEqualTo(90);
	}

	@Test
	void concurrentRequestsShareOneBatchRequest() {
		ApiKeyRateLimiter limiter = limiter(0.1);
		RateLimit limit = new RateLimit(1000, 1000);
		// Fifty requests find the allowance empty at once: one batch of 100 serves them all.
		List<Decision> decisions = Flux.range(0, 50)
			.flatMap((i) -> limiter.consume("key:k", limit), 50)
			.collectList()
			.block(Duration.ofSeconds(5));
		assertThat(decisions).hasSize(50).allSatisfy((decision) -> assertThat(decision.allowed()).isTrue());
		assertThat(tokensInRedis()).isEqualTo(900);
	}

	@Test
	void smallLimitsAreExactWithOneCallPerRequest() {
		ApiKeyRateLimiter limiter = limiter(0.1);
		// A tenth of 1 request per second is less than one token: no batching.
		RateLimit limit = new RateLimit(1, 5);
		List<Boolean> outcomes = new ArrayList<>();
		for (int i = 0; i < 7; i++) {
			outcomes.add(consume(limiter, limit).allowed());
		}
		// Five from the burst, at most one refilled if a second boundary passed meanwhile.
		long allowed = outcomes.stream().filter(Boolean::booleanValue).count();
		assertThat(allowed).isBetween(5L, 6L);
		assertThat(outcomes.get(6)).isFalse();
	}

	@Test
	void instancesSharingABucketNeverOverdrawIt() {
		ApiKeyRateLimiter a = limiter(1.0);
		ApiKeyRateLimiter b = limiter(1.0);
		RateLimit limit = new RateLimit(20, 40);
		long start = System.nanoTime();
		int allowed = 0;
		for (int i = 0; i < 100; i++) {
			if (consume((i % 2 == 0) ? a : b, limit).allowed()) {
				allowed++;
			}
		}
		double seconds = (System.nanoTime() - start) / 1e9;
		// Each took a batch of 20; the bucket's 40, plus what it refilled (20 a second, counted in
		// whole seconds by the script), is all there was to give.
		assertThat(allowed).isGreaterThanOrEqualTo(40);
		assertThat(allowed).isLessThanOrEqualTo(40 + 20 * ((int) Math.ceil(seconds) + 1));
	}

	@Test
	void aBucketWithLessThanABatchStillGivesSingleTokens() {
		ApiKeyRateLimiter limiter = limiter(1.0);
		// Batches of 20 from a bucket of 25: the second batch cannot be had, its 5 tokens can.
		RateLimit limit = new RateLimit(20, 25);
		for (int i = 0; i < 20; i++) {
			assertThat(consume(limiter, limit).allowed()).isTrue();
		}
		assertThat(tokensInRedis()).isEqualTo(5);
		Decision single = consume(limiter, limit);
		assertThat(single.allowed()).isTrue();
		// 4 after the single token, or 5 if a second boundary refilled the bucket for a batch.
		assertThat(tokensInRedis()).isLessThanOrEqualTo(5);
	}

}
