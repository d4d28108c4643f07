package dev.keyauth.cache;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.test.Instances;
import dev.keyauth.test.MutableClock;
import dev.keyauth.test.TestRedis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/** The bus against the real Redis, with a clock the test moves. */
class RedisInvalidationBusTest {

	private final LettuceConnectionFactory connections = new LettuceConnectionFactory(
			new RedisStandaloneConfiguration(TestRedis.host(), TestRedis.port()));

	private final MutableClock clock = new MutableClock(Instant.now());

	private final AtomicInteger resubscriptions = new AtomicInteger();

	private final AtomicInteger evictAlls = new AtomicInteger();

	private RedisInvalidationBus bus;

	@AfterEach
	void stop() {
		if (this.bus != null) {
			this.bus.stop();
		}
		this.connections.destroy();
	}

	@Test
	void aHeartbeatThreadThatWasHeldUpDoesNotPassForADeadSubscription() {
		start();
		Instances.await(10_000, () -> this.bus.confirmedThrough() == this.clock.millis());
		int evictionsBefore = this.evictAlls.get();

		// No heartbeat was sent for 5 s (a long GC pause, a starved thread): the last one
		// delivered is 5 s old, but nothing Redis accepted went undelivered.
		this.clock.advance(Duration.ofSeconds(5));
		Instances.await(10_000, () -> this.bus.confirmedThrough() == this.clock.millis());
		Instances.sleep(300);

		assertThat(this.resubscriptions).hasValue(0);
		// The gap itself is still treated as a possible loss of invalidations.
		assertThat(this.evictAlls.get()).isEqualTo(evictionsBefore + 1);
	}

	private void start() {
		this.connections.afterPropertiesSet();
		this.connections.start();
		this.bus = new RedisInvalidationBus(this.connections, new ReactiveStringRedisTemplate(this.connections),
				"keyauth-test:invalidations:" + UUID.randomUUID(), Duration.ofMillis(50), Duration.ofSeconds(1),
				this.clock, new LocalCacheEvictions() {

					@Override
					public void evict(KeyHash hash) {
					}

					@Override
					public void evictAll() {
						RedisInvalidationBusTest.this.evictAlls.incrementAndGet();
					}

				});
		this.bus.setMetrics(new KeyAuthMetrics() {

			@Override
			public void subscriptionReplaced() {
				RedisInvalidationBusTest.this.resubscriptions.incrementAndGet();
			}

		});
		this.bus.start();
	}

}
