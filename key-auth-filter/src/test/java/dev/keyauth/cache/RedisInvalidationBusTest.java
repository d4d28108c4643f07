package dev.keyauth.cache;

import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.support.MonotonicClock;
import dev.keyauth.test.Instances;
import dev.keyauth.test.MutableClock;
import dev.keyauth.test.NetworkNamespace;
import dev.keyauth.test.TestRedis;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The bus against the real Redis. */
class RedisInvalidationBusTest {

	private final AtomicInteger resubscriptions = new AtomicInteger();

	private final AtomicInteger evictAlls = new AtomicInteger();

	private final String channel = "keyauth-test:invalidations:" + UUID.randomUUID();

	private @Nullable LettuceConnectionFactory connections;

	private @Nullable RedisInvalidationBus bus;

	@AfterEach
	void stop() {
		if (this.bus != null) {
			this.bus.stop();
		}
		if (this.connections != null) {
			this.connections.destroy();
		}
	}

	@Test
	void aHeartbeatThreadThatWasHeldUpDoesNotPassForADeadSubscription() {
		MutableClock clock = new MutableClock(Instant.now());
		RedisInvalidationBus bus = start(clock, TestRedis.host(), TestRedis.port());
		Instances.await(10_000, () -> bus.confirmedThrough() == clock.monotonicMillis());
		int evictionsBefore = this.evictAlls.get();

		// No heartbeat was sent for 5 s (a long GC pause, a starved thread): the last one
		// delivered is 5 s old, but nothing Redis accepted went undelivered.
		clock.advance(Duration.ofSeconds(5));
		Instances.await(10_000, () -> bus.confirmedThrough() == clock.monotonicMillis());
		Instances.sleep(300);

		assertThat(this.resubscriptions).hasValue(0);
		// The gap itself is still treated as a possible loss of invalidations.
		assertThat(this.evictAlls.get()).isEqualTo(evictionsBefore + 1);
	}

	@Test
	void aSubscriptionRestoredAfterAnyDisconnectionCountsAsAGap() {
		RedisInvalidationBus bus = start(MonotonicClock.SYSTEM, TestRedis.host(), TestRedis.port());
		Instances.await(10_000, () -> bus.isConfirmed());
		int evictionsBefore = this.evictAlls.get();

		// Redis drops the subscription's connection (CLIENT KILL here; a failover, a proxy or a
		// reset in the network elsewhere) and Lettuce subscribes again on a new one within
		// milliseconds, well inside the heartbeats' gap bound. Whatever was published in between
		// is lost, and no heartbeat went missing to say so.
		RedisClient client = RedisClient.create(TestRedis.url());
		try (StatefulRedisConnection<String, String> admin = client.connect()) {
			long killed = admin.sync().clientKill(KillArgs.Builder.typePubsub());
			assertThat(killed).isPositive();
		}
		finally {
			client.shutdown();
		}
		long afterKill = MonotonicClock.SYSTEM.monotonicMillis();
		Instances.await(10_000, () -> bus.confirmedThrough() > afterKill);

		// (A reconnect slow enough to also leave a gap in the heartbeats would be counted twice.)
		assertThat(this.evictAlls.get()).as("every local entry to be read again").isGreaterThan(evictionsBefore);
	}

	@Test
	void aHeartbeatFromTheFutureIsNotTakenAsProof() {
		RedisInvalidationBus bus = start(MonotonicClock.SYSTEM, TestRedis.host(), TestRedis.port());
		Instances.await(10_000, bus::isConfirmed);
		RedisClient client = RedisClient.create(TestRedis.url());
		try (StatefulRedisConnection<String, String> other = client.connect()) {
			// Someone else with access to Redis finds the instance's heartbeat channel and sends
			// on it a heartbeat a year ahead, which would have every local entry trusted for a year.
			String pattern = RedisInvalidationBus.heartbeatChannelPrefix(this.channel) + "*";
			List<String> channels = other.sync().pubsubChannels(pattern);
			assertThat(channels).hasSize(1);
			long aYearAhead = MonotonicClock.SYSTEM.monotonicMillis() + Duration.ofDays(365).toMillis();
			assertThat(other.sync().publish(channels.get(0), Long.toString(aYearAhead))).isEqualTo(1);
		}
		finally {
			client.shutdown();
		}
		Instances.sleep(300);
		assertThat(bus.confirmedThrough()).isLessThanOrEqualTo(MonotonicClock.SYSTEM.monotonicMillis());
	}

	/**
	 * A Redis that takes connections and commands but does not answer (stopped, or stuck in a
	 * long script) holds the heartbeat thread for up to Lettuce's command timeout, which Spring
	 * Boot leaves at a minute. That thread only waits: once Redis answers, the heartbeat it
	 * waits on and the ones after it come back, and the instance is confirmed again at once,
	 * not a minute later.
	 */
	@Test
	void aRedisThatStopsAnsweringIsConfirmedAgainAsSoonAsItAnswersWhateverTheCommandTimeout() throws Exception {
		boolean installed = NetworkNamespace.installed("redis-server");
		if (NetworkNamespace.requiredHere()) {
			assertThat(installed).as("%s=required, but this run has no redis-server", NetworkNamespace.REQUIRED_VARIABLE)
				.isTrue();
		}
		assumeTrue(installed, "needs redis-server, to stop a Redis of its own");
		int port;
		try (ServerSocket free = new ServerSocket(0)) {
			port = free.getLocalPort();
		}
		Process redis = new ProcessBuilder("redis-server", "--bind", "127.0.0.1", "--port", Integer.toString(port),
				"--save", "", "--appendonly", "no")
			.redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.DISCARD)
			.start();
		try {
			RedisInvalidationBus bus = start(MonotonicClock.SYSTEM, "127.0.0.1", port, Duration.ofMinutes(1));
			Instances.await(10_000, bus::isConfirmed);
			signal(redis, "STOP");
			Instances.sleep(3000);
			assertThat(bus.isConfirmed()).as("no heartbeat comes back from a stopped Redis").isFalse();
			signal(redis, "CONT");
			long continued = MonotonicClock.SYSTEM.monotonicMillis();
			Instances.await(5000, () -> bus.confirmedThrough() > continued);
		}
		finally {
			signal(redis, "CONT");
			if (this.bus != null) {
				this.bus.stop();
				this.bus = null;
			}
			redis.destroyForcibly().waitFor();
		}
	}

	private static void signal(Process process, String signal) throws Exception {
		assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor()).isZero();
	}

	private RedisInvalidationBus start(MonotonicClock clock, String host, int port) {
		return start(clock, host, port, Duration.ofSeconds(1));
	}

	private RedisInvalidationBus start(MonotonicClock clock, String host, int port, Duration commandTimeout) {
		LettuceConnectionFactory connections = new LettuceConnectionFactory(new RedisStandaloneConfiguration(host, port),
				LettuceClientConfiguration.builder().commandTimeout(commandTimeout).build());
		connections.afterPropertiesSet();
		connections.start();
		this.connections = connections;
		RedisInvalidationBus bus = new RedisInvalidationBus(connections, new ReactiveStringRedisTemplate(connections),
				this.channel, Duration.ofMillis(50), Duration.ofSeconds(1), clock,
				new LocalCacheEvictions() {

					@Override
					public void evict(KeyHash hash) {
					}

					@Override
					public void evictAll() {
						RedisInvalidationBusTest.this.evictAlls.incrementAndGet();
					}

				});
		bus.setMetrics(new KeyAuthMetrics() {

			@Override
			public void subscriptionReplaced() {
				RedisInvalidationBusTest.this.resubscriptions.incrementAndGet();
			}

		});
		bus.start();
		this.bus = bus;
		return bus;
	}

}
