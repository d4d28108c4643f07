package dev.keyauth.test;

import java.net.URI;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * The Redis the tests run against: {@code KEYAUTH_TEST_REDIS_URL} (for example
 * {@code redis://127.0.0.1:6379}) when set, otherwise a Testcontainers Redis when Docker is
 * available; with neither, tests fail saying what to set.
 */
public final class TestRedis {

	public static final String URL_VARIABLE = "KEYAUTH_TEST_REDIS_URL";

	private static volatile URI uri;

	private TestRedis() {
	}

	public static String url() {
		return uri().toString();
	}

	public static String host() {
		return uri().getHost();
	}

	public static int port() {
		return uri().getPort();
	}

	/** A started Lettuce connection factory for this Redis; the caller destroys it. */
	public static LettuceConnectionFactory connectionFactory() {
		LettuceConnectionFactory factory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(host(), port()));
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

	private static URI uri() {
		URI u = uri;
		if (u == null) {
			synchronized (TestRedis.class) {
				u = uri;
				if (u == null) {
					u = connect();
					uri = u;
				}
			}
		}
		return u;
	}

	@SuppressWarnings("resource")
	private static URI connect() {
		String url = System.getenv(URL_VARIABLE);
		if (url != null && !url.isBlank()) {
			return URI.create(url);
		}
		if (DockerClientFactory.instance().isDockerAvailable()) {
			GenericContainer<?> redis = new GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
			redis.start();
			Runtime.getRuntime().addShutdownHook(new Thread(redis::stop));
			return URI.create("redis://" + redis.getHost() + ":" + redis.getMappedPort(6379));
		}
		throw new IllegalStateException("No Redis for the tests: set " + URL_VARIABLE
				+ " (for example redis://127.0.0.1:6379) or make Docker available. "
				+ "`bash .ci/run` sets it up on a machine with a local Redis.");
	}

}
