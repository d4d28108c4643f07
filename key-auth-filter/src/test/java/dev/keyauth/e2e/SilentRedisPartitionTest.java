package dev.keyauth.e2e;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.keyauth.ratelimit.ApiKeyRateLimiter;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.GatewayInstance;
import dev.keyauth.test.Instances;
import dev.keyauth.test.NetworkNamespace;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.lettuce.core.event.connection.DisconnectedEvent;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two gateway instances whose Redis sits behind a network link that the test takes down, so that
 * every packet either way is dropped without a reset: a partition, or a failover that left no
 * reset behind. {@link DegradedModesTest} cuts connections through a proxy in user space, whose
 * kernel acknowledges everything it receives; only a dropped link shows what the gateway's own
 * kernel does with a connection whose data goes unacknowledged.
 * <p>
 * Runs where the test may create network namespaces (root and iproute2) and {@code redis-server}
 * is installed, and is skipped elsewhere unless {@code KEYAUTH_TEST_NETNS=required} (as in CI).
 */
class SilentRedisPartitionTest {

	static final String ADMIN_TOKEN = "silent-partition-token";

	static NetworkNamespace network;

	static EchoUpstream upstream;

	static GatewayInstance a;

	static GatewayInstance b;

	@BeforeAll
	static void start() {
		boolean possible = NetworkNamespace.available() && NetworkNamespace.installed("redis-server");
		if (NetworkNamespace.requiredHere()) {
			assertThat(possible).as("%s=required, but this run cannot create network namespaces or has no "
					+ "redis-server", NetworkNamespace.REQUIRED_VARIABLE).isTrue();
		}
		assumeTrue(possible, "needs root, iproute2 (ip netns) and redis-server");
		network = NetworkNamespace.create();
		network.start("redis-server", "--bind", network.address(), "--port", "6379", "--protected-mode", "no",
				"--save", "", "--appendonly", "no");
		Instances.await(10_000, () -> accepts(network.address(), 6379));
		upstream = new EchoUpstream();
		Map<String, String> properties = Instances.properties(upstream);
		properties.put("spring.data.redis.url", "redis://" + network.address() + ":6379");
		properties.put("spring.data.redis.connect-timeout", "1s");
		a = GatewayInstance.start(MinimalGatewayApplication.class, properties, ADMIN_TOKEN);
		b = GatewayInstance.start(MinimalGatewayApplication.class, properties, ADMIN_TOKEN);
	}

	@AfterAll
	static void stop() {
		Instances.closeAll(a, b, upstream, network);
	}

	private static boolean accepts(String host, int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(host, port), 200);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Without the plugin's TCP options, Lettuce kept such a connection for as long as the
	 * kernel retransmits (about a quarter of an hour): the Redis tier, the rate limits and the
	 * heartbeats on it all failed meanwhile, and where the old path never came back (Redis moved
	 * to another host) nothing recovered before that.
	 */
	@Test
	void aConnectionCutWithoutAResetIsClosedWithinSecondsAndMadeAgainWhenTheLinkHeals() {
		for (GatewayInstance instance : List.of(a, b)) {
			instance.awaitHearingInvalidations(20_000);
		}
		Map<String, Object> created = a.admin().create("silent-" + UUID.randomUUID(), List.of());
		String key = (String) created.get("key");
		// Under 20 requests a second, so every request asks Redis for its token.
		String limited = (String) a.admin()
			.create(Map.of("consumerId", "silent-limited-" + UUID.randomUUID(), "rateLimit",
					Map.of("requestsPerSecond", 10, "burst", 1000)))
			.get("key");
		// Past the creation's invalidation and its repeat, which would evict what is warmed now.
		Instances.sleep(1300);
		assertThat(a.status("/x", key)).isEqualTo(200);
		assertThat(b.status("/x", key)).isEqualTo(200);

		Queue<Long> disconnectsOfA = new ConcurrentLinkedQueue<>();
		Disposable watch = a.bean(ClientResources.class)
			.eventBus()
			.get()
			.filter(DisconnectedEvent.class::isInstance)
			.subscribe((event) -> disconnectsOfA.add(System.nanoTime()));
		try {
			long cutAt = System.nanoTime();
			network.cut();
			// Requests go on meanwhile, from the caches and PostgreSQL.
			String other = (String) b.admin().create("silent-other-" + UUID.randomUUID(), List.of()).get("key");
			assertThat(a.status("/x", key)).isEqualTo(200);
			assertThat(a.status("/x", other)).isEqualTo(200);
			// Rate limits fail open, and once ten checks have waited out their timeout the rest are
			// decided without asking Redis.
			for (int i = 0; i < 15; i++) {
				assertThat(a.status("/x", limited)).isEqualTo(200);
			}
			assertThat(a.bean(ApiKeyRateLimiter.class).breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);

			// The heartbeats go unacknowledged on a's command connection: the kernel closes it
			// 10 s on (TCP_USER_TIMEOUT), and Lettuce starts reconnecting.
			Instances.await(25_000, () -> !disconnectsOfA.isEmpty());
			Duration closedAfter = Duration.ofNanos(disconnectsOfA.peek() - cutAt);
			System.out.println("connection without a reset closed after " + closedAfter.toMillis() + " ms");
			assertThat(closedAfter).isGreaterThanOrEqualTo(Duration.ofSeconds(9));
		}
		finally {
			watch.dispose();
			network.restore();
		}

		// Once the link is back, both instances hear invalidations again, and a revocation on one
		// reaches the other by message, well within the trust bound.
		for (GatewayInstance instance : List.of(a, b)) {
			instance.awaitHearingInvalidations(45_000);
		}
		Instances.sleep(1300);
		assertThat(b.status("/x", key)).isEqualTo(200);
		assertThat(a.revokeUntilRefusedBy(b, created)).isLessThan(Duration.ofMillis(500));
	}

}
