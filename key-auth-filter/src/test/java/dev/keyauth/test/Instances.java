package dev.keyauth.test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/** Properties shared by tests that start gateway instances against PostgreSQL and Redis. */
public final class Instances {

	private Instances() {
	}

	/**
	 * PostgreSQL and Redis reached through the given proxies, one catch-all route to
	 * {@code upstream}.
	 */
	public static Map<String, String> properties(TcpProxy postgres, TcpProxy redis, EchoUpstream upstream) {
		Map<String, String> properties = properties(upstream);
		properties.put("spring.r2dbc.url",
				"r2dbc:postgresql://127.0.0.1:" + postgres.port() + "/" + TestPostgres.database());
		properties.put("spring.data.redis.url", "redis://127.0.0.1:" + redis.port());
		return properties;
	}

	/** PostgreSQL and Redis reached directly, one catch-all route to {@code upstream}. */
	public static Map<String, String> properties(EchoUpstream upstream) {
		Map<String, String> properties = new LinkedHashMap<>(TestPostgres.properties());
		properties.put("spring.data.redis.url", TestRedis.url());
		properties.put("spring.cloud.gateway.server.webflux.routes[0].id", "echo");
		properties.put("spring.cloud.gateway.server.webflux.routes[0].uri", upstream.uri());
		properties.put("spring.cloud.gateway.server.webflux.routes[0].predicates[0]", "Path=/**");
		return properties;
	}

	/** Polls until {@code condition} holds or {@code timeoutMillis} pass; returns the milliseconds it took. */
	public static long await(long timeoutMillis, java.util.function.BooleanSupplier condition) {
		long start = System.nanoTime();
		while (!condition.getAsBoolean()) {
			long elapsed = (System.nanoTime() - start) / 1_000_000;
			if (elapsed > timeoutMillis) {
				throw new AssertionError("condition not met within " + timeoutMillis + " ms");
			}
			sleep(5);
		}
		return (System.nanoTime() - start) / 1_000_000;
	}

	/** Polls {@code status} until it answers {@code expected}; returns the milliseconds it took. */
	public static long awaitStatus(long timeoutMillis, int expected, IntSupplier status) {
		return await(timeoutMillis, () -> status.getAsInt() == expected);
	}

	/**
	 * Closes each of {@code closeables} that is not null, in order (what a test's {@code @AfterAll}
	 * does with what its {@code @BeforeAll} started, possibly only in part). One that fails to
	 * close does not keep the rest open (a network namespace, a server process); the first
	 * failure is thrown once all were tried.
	 */
	public static void closeAll(AutoCloseable... closeables) {
		IllegalStateException failure = null;
		for (AutoCloseable closeable : closeables) {
			if (closeable != null) {
				try {
					closeable.close();
				}
				catch (Exception ex) {
					if (failure == null) {
						failure = new IllegalStateException("could not close " + closeable, ex);
					}
					else {
						failure.addSuppressed(ex);
					}
				}
			}
		}
		if (failure != null) {
			throw failure;
		}
	}

	public static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
