package dev.keyauth.cache;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.key.KeyHash;
import dev.keyauth.test.TestRedis;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.tracing.MicrometerTracing;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis reads that time out against a real Redis, with Lettuce's commands observed as Spring
 * Boot observes them wherever Actuator is present. Cancelling a command whose observation is
 * still starting throws inside Lettuce; with Reactor's plain timeout, a few reads in a thousand
 * then never ended (a gateway's key lookup stuck that way, bench/RESULTS.md, "a twelfth look").
 */
class RedisKeyCacheTracingTest {

	private ClientResources resources;

	private LettuceConnectionFactory factory;

	@BeforeEach
	void connect() {
		ObservationRegistry observations = ObservationRegistry.create();
		observations.observationConfig()
			.observationHandler(new DefaultMeterObservationHandler(new SimpleMeterRegistry()));
		this.resources = ClientResources.builder().tracing(new MicrometerTracing(observations, "Redis")).build();
		this.factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration(TestRedis.host(), TestRedis.port()),
				LettuceClientConfiguration.builder().clientResources(this.resources).build());
		this.factory.afterPropertiesSet();
		this.factory.start();
	}

	@AfterEach
	void disconnect() {
		if (this.factory != null) {
			this.factory.destroy();
		}
		this.resources.shutdown();
	}

	@Test
	void everyReadEndsWhenTimeoutsRaceTheReplies() throws InterruptedException {
		// Timeouts about as long as a reply takes here, so that many fire while a command is on
		// its way; a breaker that ignores the timeouts (so never opens and every read reaches Redis)
		// and counts both outcomes.
		AtomicInteger timedOut = new AtomicInteger();
		AtomicInteger answered = new AtomicInteger();
		for (long micros : new long[] { 50, 100, 200, 400, 800 }) {
			CircuitBreaker breaker = CircuitBreaker.of("reads-" + micros,
					CircuitBreakerConfig.custom().ignoreExceptions(Exception.class).build());
			breaker.getEventPublisher().onIgnoredError((event) -> timedOut.incrementAndGet());
			breaker.getEventPublisher().onSuccess((event) -> answered.incrementAndGet());
			RedisKeyCache cache = new RedisKeyCache(new ReactiveStringRedisTemplate(this.factory), new JsonMapper(),
					"keyauth-test:tracing:", Duration.ofNanos(micros * 1000), breaker, new byte[32]);
			int reads = 3000;
			CountDownLatch ended = new CountDownLatch(reads);
			for (int i = 0; i < reads; i++) {
				cache.get(KeyHash.sha256("key-" + i)).doFinally((signal) -> ended.countDown()).subscribe();
			}
			assertThat(ended.await(20, TimeUnit.SECONDS))
				.as("reads still running %d s after the last started, with a %d µs timeout", 20, micros)
				.isTrue();
		}
		// Both outcomes happened, so the timeouts did race the replies. (Which timeout is about as
		// long as a reply depends on the machine's speed at the moment: over all of them, not per
		// timeout; a slow moment once left the shortest with no answer at all.)
		assertThat(timedOut).as("timed out").hasPositiveValue();
		assertThat(answered).as("answered").hasPositiveValue();
	}

}
