package dev.keyauth.support;

import java.time.Duration;

import dev.keyauth.test.Instances;
import dev.keyauth.test.TcpProxy;
import dev.keyauth.test.TestRedis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Against the real Redis, behind a proxy that plays it down. Calls are made on Reactor's
 * parallel threads, where BlockHound (and {@code NoBlockingCallsExtension}) fail the test if one
 * connects: what Spring Data Redis does on the first call when the connection is not open.
 */
class RedisConnectionOpenerTest {

	private final TcpProxy redis = new TcpProxy(TestRedis.host(), TestRedis.port());

	private final LettuceConnectionFactory connectionFactory = connectionFactory(this.redis);

	private final RedisConnectionOpener opener = new RedisConnectionOpener(this.connectionFactory,
			Duration.ofMillis(200));

	@AfterEach
	void close() {
		this.opener.close();
		this.connectionFactory.destroy();
		this.redis.close();
	}

	@Test
	void redisUpAtStartUpIsUsedAtOnce() {
		this.opener.open();

		assertThat(this.opener.isOpen()).isTrue();
		StepVerifier.create(ping()).expectNext("PONG").verifyComplete();
	}

	@Test
	void redisDownAtStartUpCallsFailAtOnceUntilTheConnectionIsOpenedInTheBackground() {
		this.redis.cut();

		assertThatExceptionOfType(RedisConnectionFailureException.class).isThrownBy(this.opener::open);
		assertThat(this.opener.isOpen()).isFalse();
		StepVerifier.create(ping())
			.expectErrorSatisfies((ex) -> assertThat(ex).isInstanceOf(RedisConnectionFailureException.class)
				.hasMessageContaining("connecting in the background"))
			.verify(Duration.ofSeconds(5));

		this.redis.restore();
		Instances.await(10_000, this.opener::isOpen);
		StepVerifier.create(ping()).expectNext("PONG").verifyComplete();
	}

	@Test
	void closedItStopsTrying() {
		this.redis.cut();
		assertThatExceptionOfType(RedisConnectionFailureException.class).isThrownBy(this.opener::open);
		this.opener.close();

		this.redis.restore();
		Instances.sleep(1000);
		assertThat(this.opener.isOpen()).isFalse();
	}

	private Mono<String> ping() {
		return new ReactiveStringRedisTemplate(this.opener.connectionFactory())
			.execute((connection) -> connection.ping())
			.next()
			.subscribeOn(Schedulers.parallel());
	}

	private static LettuceConnectionFactory connectionFactory(TcpProxy proxy) {
		LettuceConnectionFactory factory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration("127.0.0.1", proxy.port()));
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

}
