package dev.keyauth.e2e;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.cache.RedisInvalidationBus;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.GatewayInstance;
import dev.keyauth.test.Instances;
import dev.keyauth.test.TcpProxy;
import dev.keyauth.test.TestPostgres;
import dev.keyauth.test.TestRedis;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a gateway with key auth adds to the application's observations of Redis (Spring Boot
 * observes every Lettuce command): its cache reads and invalidations, and not its heartbeats.
 */
class ObservabilityTest {

	static final String ADMIN_TOKEN = "observability-token";

	static EchoUpstream upstream;

	static TcpProxy postgres;

	static TcpProxy redis;

	static GatewayInstance gateway;

	@BeforeAll
	static void start() {
		upstream = new EchoUpstream();
		postgres = new TcpProxy(TestPostgres.host(), TestPostgres.port());
		redis = new TcpProxy(TestRedis.host(), TestRedis.port());
		gateway = GatewayInstance.start(MinimalGatewayApplication.class,
				Instances.properties(postgres, redis, upstream), ADMIN_TOKEN);
	}

	@AfterAll
	static void stop() {
		Instances.closeAll(gateway, redis, postgres, upstream);
	}

	@Test
	void heartbeatsAreNotObservedButTheCacheAndInvalidationsAre() {
		RedisInvalidationBus bus = gateway.bean(RedisInvalidationBus.class);
		// Heartbeats confirmed over 2 s: about ten sent (200 ms apart) before anything is counted.
		Instances.await(5000, () -> bus.confirmedThrough() > 0);
		long firstConfirmed = bus.confirmedThrough();
		Instances.await(5000, () -> bus.confirmedThrough() >= firstConfirmed + 2000);

		Map<String, Object> created = gateway.admin().create("observed-" + UUID.randomUUID(), List.of());
		assertThat(gateway.status("/x", (String) created.get("key"))).isEqualTo(200);
		gateway.admin().revoke((String) created.get("id"));

		MeterRegistry registry = gateway.bean(MeterRegistry.class);
		// The revocation publishes an invalidation (and repeats it shortly after): every publish
		// observed is one of those, where 5 heartbeats a second would otherwise outnumber them.
		Instances.await(5000, () -> invalidationsSent(registry) >= 1
				&& observedCommands(registry, "PUBLISH") == invalidationsSent(registry));
		// The first use of the key looked for it in Redis: the plugin's other commands are observed.
		assertThat(observedCommands(registry, "GET")).isPositive();
	}

	private static long observedCommands(MeterRegistry registry, String command) {
		return registry.find("lettuce").tag("db.operation", command).timers().stream().mapToLong(Timer::count).sum();
	}

	private static long invalidationsSent(MeterRegistry registry) {
		return (long) registry.get("keyauth.invalidations").tag("direction", "sent").counter().count();
	}

}
