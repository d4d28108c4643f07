package dev.keyauth.cache;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.store.ApiKey;
import dev.keyauth.support.MonotonicClock;
import dev.keyauth.test.TestRedis;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Whoever can write to Redis but does not have the gateways' secret cannot make an instance
 * accept a key: every entry that was not written, as it is and under the hash it is stored
 * under, by an instance with the same secret is a miss. Against the real Redis.
 */
class RedisKeyCacheSignatureTest {

	private final String prefix = "keyauth-test:signature:" + UUID.randomUUID() + ":";

	private LettuceConnectionFactory factory;

	private ReactiveStringRedisTemplate redis;

	private final AtomicInteger rejected = new AtomicInteger();

	private final KeyAuthMetrics metrics = new KeyAuthMetrics() {

		@Override
		public void redisEntryRejected() {
			RedisKeyCacheSignatureTest.this.rejected.incrementAndGet();
		}

	};

	@BeforeEach
	void connect() {
		this.factory = TestRedis.connectionFactory();
		this.redis = new ReactiveStringRedisTemplate(this.factory);
	}

	@AfterEach
	void disconnect() {
		this.redis.keys(this.prefix + "*").flatMap(this.redis::delete).blockLast(Duration.ofSeconds(5));
		this.factory.destroy();
	}

	private RedisKeyCache cache(byte[] secret) {
		RedisKeyCache cache = new RedisKeyCache(this.redis, new JsonMapper(), this.prefix, Duration.ofSeconds(1),
				CircuitBreaker.ofDefaults("signature-test"), secret);
		cache.setMetrics(this.metrics);
		return cache;
	}

	private static byte[] secret(int fill) {
		byte[] secret = new byte[32];
		Arrays.fill(secret, (byte) fill);
		return secret;
	}

	private static CachedLookup answer(String consumer, List<String> scopes) {
		return new CachedLookup(new ApiKey(UUID.randomUUID(), "sk_live_abcd", consumer, null, scopes, Map.of(),
				Instant.parse("2026-12-01T00:00:00Z"), null, null, null), 1_000L);
	}

	private String stored(RedisKeyCache cache, KeyHash hash) {
		return this.redis.opsForValue().get(cache.redisKey(hash)).block(Duration.ofSeconds(5));
	}

	private void write(RedisKeyCache cache, KeyHash hash, String value) {
		this.redis.opsForValue().set(cache.redisKey(hash), value, Duration.ofMinutes(1)).block(Duration.ofSeconds(5));
	}

	@Test
	void anEntryWrittenWithTheSameSecretIsAHitAndAnyOtherIsAMiss() {
		RedisKeyCache cache = cache(secret(1));
		KeyHash hash = KeyHash.sha256("some key");
		cache.put(hash, answer("acme", List.of("orders:read")), Duration.ofMinutes(1)).block(Duration.ofSeconds(5));
		StepVerifier.create(cache.get(hash))
			.assertNext((hit) -> assertThat(hit.key().consumerId()).isEqualTo("acme"))
			.verifyComplete();
		// Another instance of the same deployment: same secret.
		StepVerifier.create(cache(secret(1)).get(hash)).expectNextCount(1).verifyComplete();
		// Another deployment on the same Redis and key prefix: another secret.
		StepVerifier.create(cache(secret(2)).get(hash)).verifyComplete();
	}

	@Test
	void aRecordWrittenByAnyoneElseIsAMiss() {
		RedisKeyCache cache = cache(secret(1));
		KeyHash invented = KeyHash.sha256("a key someone made up");
		String genuine = cache.encode(invented, answer("acme", List.of()));
		String record = genuine.substring(genuine.indexOf('.') + 1);

		write(cache, invented, record);
		StepVerifier.create(cache.get(invented)).as("no signature").verifyComplete();
		write(cache, invented, "AAAA." + record);
		StepVerifier.create(cache.get(invented)).as("a made-up signature").verifyComplete();
		write(cache, invented, "not base64!." + record);
		StepVerifier.create(cache.get(invented)).as("a signature that is not Base64").verifyComplete();
		write(cache, invented, cache(secret(2)).encode(invented, answer("acme", List.of())));
		StepVerifier.create(cache.get(invented)).as("signed with another secret").verifyComplete();
		assertThat(this.rejected).as("counted for operators to alert on").hasValue(4);
	}

	@Test
	void aGenuineEntryKeptLongerThanAnyRedisTtlIsAMiss() {
		RedisKeyCache cache = cache(secret(1));
		// Revoked since (the store no longer finds it active; here it finds nothing at all), but
		// someone kept its genuine entry from ten minutes ago and wrote it back to Redis.
		KeyHash hash = KeyHash.sha256("a revoked key");
		long tenMinutesAgo = System.currentTimeMillis() - Duration.ofMinutes(10).toMillis();
		CachedLookup old = new CachedLookup(answer("acme", List.of()).key(), tenMinutesAgo);
		cache.put(hash, old, Duration.ofMinutes(1)).block(Duration.ofSeconds(5));
		StepVerifier.create(cache.get(hash)).as("genuine: it verifies").expectNextCount(1).verifyComplete();

		AtomicInteger storeQueries = new AtomicInteger();
		TieredApiKeyLookup lookup = new TieredApiKeyLookup((h) -> Mono.fromRunnable(storeQueries::incrementAndGet),
				1000, cache, new CachePolicy(Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(60),
						Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(1)),
				Clock.systemUTC(), MonotonicClock.SYSTEM, Duration.ofSeconds(1), CircuitBreaker.ofDefaults("age-test"));
		lookup.setMetrics(this.metrics);
		StepVerifier.create(lookup.findByHash(hash)).as("not found: the store's answer").verifyComplete();
		assertThat(storeQueries).hasValue(1);
		assertThat(this.rejected).hasValue(1);
	}

	@Test
	void aGenuineEntryChangedOrMovedToAnotherKeysHashIsAMiss() {
		RedisKeyCache cache = cache(secret(1));
		KeyHash real = KeyHash.sha256("a real key");
		cache.put(real, answer("acme", List.of("orders:read")), Duration.ofMinutes(1)).block(Duration.ofSeconds(5));
		String genuine = stored(cache, real);
		assertThat(genuine).contains("orders:read");

		write(cache, real, genuine.replace("orders:read", "orders:write"));
		StepVerifier.create(cache.get(real)).as("scopes changed").verifyComplete();

		KeyHash invented = KeyHash.sha256("a key someone made up");
		write(cache, invented, genuine);
		StepVerifier.create(cache.get(invented)).as("the real key's entry under another hash").verifyComplete();
	}

}
