package dev.keyauth.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.keyauth.cache.RedisInvalidationBus;
import dev.keyauth.support.MonotonicClock;
import dev.keyauth.test.CountingStoreConfiguration.CountingApiKeyStore;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * One running gateway application on random ports, for tests that need several instances
 * sharing PostgreSQL and Redis.
 */
public final class GatewayInstance implements AutoCloseable {

	private final ConfigurableApplicationContext context;

	private final WebTestClient proxy;

	private final AdminClient admin;

	private GatewayInstance(ConfigurableApplicationContext context, String adminToken) {
		this.context = context;
		int port = ((WebServerApplicationContext) context).getWebServer().getPort();
		int managementPort = Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
		this.proxy = WebTestClient.bindToServer()
			.baseUrl("http://127.0.0.1:" + port)
			.responseTimeout(Duration.ofSeconds(15))
			.build();
		this.admin = new AdminClient(managementPort, adminToken);
	}

	/**
	 * Starts {@code application} (plus a store-lookup counter) with these properties, on random
	 * proxy and management ports.
	 */
	public static GatewayInstance start(Class<?> application, Map<String, String> properties, String adminToken) {
		List<String> args = new ArrayList<>();
		properties.forEach((name, value) -> args.add("--" + name + "=" + value));
		args.add("--server.port=0");
		args.add("--management.server.port=0");
		args.add("--keyauth.admin.token=" + adminToken);
		SpringApplication app = new SpringApplicationBuilder(application, CountingStoreConfiguration.class).build();
		return new GatewayInstance(app.run(args.toArray(String[]::new)), adminToken);
	}

	public WebTestClient proxy() {
		return this.proxy;
	}

	public AdminClient admin() {
		return this.admin;
	}

	public ConfigurableApplicationContext context() {
		return this.context;
	}

	public <T> T bean(Class<T> type) {
		return this.context.getBean(type);
	}

	/**
	 * Waits until this instance hears its own invalidation heartbeats again (the last one heard
	 * is under 500 ms old): subscribed, and so told of every change by message.
	 */
	public void awaitHearingInvalidations(long timeoutMillis) {
		RedisInvalidationBus bus = bean(RedisInvalidationBus.class);
		Instances.await(timeoutMillis, () -> MonotonicClock.SYSTEM.monotonicMillis() - bus.confirmedThrough() < 500);
	}

	/**
	 * Revokes {@code created} (a key as the admin API answered its creation) through this
	 * instance, then polls {@code other} with it until it is refused (at most 5 s): how long
	 * that took from the start of the revoke call.
	 */
	public Duration revokeUntilRefusedBy(GatewayInstance other, Map<String, Object> created) {
		String key = (String) created.get("key");
		long start = System.nanoTime();
		this.admin.revoke((String) created.get("id"));
		Instances.awaitStatus(5000, 401, () -> other.status("/x", key));
		return Duration.ofNanos(System.nanoTime() - start);
	}

	/** Lookups that reached PostgreSQL so far. */
	public int storeLookups() {
		return this.context.getBean(CountingApiKeyStore.class).lookups();
	}

	/** The status this instance answers for a request to {@code path} with {@code key}. */
	public int status(String path, String key) {
		return this.proxy.get().uri(path).header("X-API-Key", key).exchange().returnResult(Void.class)
			.getStatus().value();
	}

	/**
	 * Closes the application, waiting at most 30 seconds. One CI run hung here for good, on
	 * Lettuce's per-connection write lock (see {@link LettuceSharedLockBlockHoundIntegration}
	 * for the likely cause, now allowed). The tests' assertions are done by then, so should it
	 * ever happen again the suite carries on, with a warning, rather than hang until the CI time
	 * limit.
	 */
	@Override
	public void close() {
		Thread closing = new Thread(this.context::close, "gateway-instance-close");
		closing.setDaemon(true);
		closing.start();
		try {
			closing.join(30_000);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		if (closing.isAlive()) {
			System.err.println("WARNING: a gateway instance did not close within 30 s; "
					+ "continuing without it");
		}
	}

}
