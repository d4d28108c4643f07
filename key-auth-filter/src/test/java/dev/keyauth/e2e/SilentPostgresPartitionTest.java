package dev.keyauth.e2e;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import dev.keyauth.health.KeyStoreHealthIndicator;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.GatewayInstance;
import dev.keyauth.test.Instances;
import dev.keyauth.test.NamespacedPostgres;
import dev.keyauth.test.NetworkNamespace;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;
import io.r2dbc.spi.ConnectionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.health.contributor.Status;
import org.springframework.http.MediaType;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A gateway whose PostgreSQL sits behind a network link that the test takes down, so that every
 * packet either way is dropped without a reset. {@link DegradedModesTest} plays partitions through
 * a proxy in user space, which accepts every connection the pool opens and acknowledges whatever
 * it is sent; behind a dropped link the pooled connections' queries go unacknowledged, and the
 * connections opened in their place get no answer to their first packet, which the kernel sends
 * again for about two minutes. The gateway must answer every request promptly meanwhile (from its
 * caches, or 503, never 401), and be whole again soon after the link is back, without a restart.
 * <p>
 * Runs where the test may create network namespaces (root and iproute2) and the PostgreSQL server
 * binaries are installed, and is skipped elsewhere unless {@code KEYAUTH_TEST_NETNS=required} (as
 * in CI). The plugin's store settings are left at their defaults, as a user gets them.
 */
class SilentPostgresPartitionTest {

	static final String ADMIN_TOKEN = "silent-postgres-token";

	static NetworkNamespace network;

	static NamespacedPostgres postgres;

	static EchoUpstream upstream;

	static GatewayInstance gateway;

	final ApiKeyGenerator generator = new ApiKeyGenerator(new ApiKeyFormat("sk_live_"));

	@BeforeAll
	static void start() {
		boolean possible = NetworkNamespace.available() && NamespacedPostgres.available();
		if (NetworkNamespace.requiredHere()) {
			assertThat(possible).as("%s=required, but this run cannot create network namespaces or has no "
					+ "PostgreSQL server binaries", NetworkNamespace.REQUIRED_VARIABLE).isTrue();
		}
		assumeTrue(possible, "needs root, iproute2 (ip netns) and the PostgreSQL server binaries");
		network = NetworkNamespace.create();
		postgres = NamespacedPostgres.start(network);
		upstream = new EchoUpstream();
		Map<String, String> properties = Instances.properties(upstream);
		properties.put("spring.r2dbc.url", postgres.r2dbcUrl());
		properties.put("spring.r2dbc.username", "postgres");
		properties.put("spring.r2dbc.password", "");
		gateway = GatewayInstance.start(MinimalGatewayApplication.class, properties, ADMIN_TOKEN);
	}

	@AfterAll
	static void stop() {
		Instances.closeAll(gateway, upstream, postgres, network);
	}

	@Test
	void whileTheLinkIsDownEveryRequestIsAnsweredPromptlyAndOnceItIsBackTheGatewayIsWholeAgain()
			throws Exception {
		Map<String, Object> created = gateway.admin().create("silent-pg-" + UUID.randomUUID(), List.of());
		String key = (String) created.get("key");
		// Past the creation's invalidation and its repeat, which would evict what is warmed now.
		Instances.sleep(1300);
		assertThat(gateway.status("/x", key)).isEqualTo(200);
		ConnectionPool pool = (ConnectionPool) gateway.bean(ConnectionFactory.class);
		pool.warmup().block();
		// Every place in the pool holds an open connection when the link goes.
		PoolMetrics metrics = pool.getMetrics().orElseThrow();
		assertThat(metrics.idleSize()).isEqualTo(metrics.getMaxAllocatedSize());

		network.cut();
		try {
			assertThat(gateway.status("/x", key)).isEqualTo(200);
			// More lookups at once than the pool has places, each of a key no cache holds: the
			// pooled connections' queries go unanswered, then the openings in their place do.
			ExecutorService callers = Executors.newFixedThreadPool(14);
			try {
				List<Future<long[]>> answers = callers.invokeAll(IntStream.range(0, 14)
					.mapToObj((i) -> (Callable<long[]>) () -> timedStatus(this.generator.generateKey()))
					.toList());
				for (Future<long[]> answer : answers) {
					long[] statusAndMillis = answer.get();
					assertThat(statusAndMillis[0]).isEqualTo(503);
					// Within the store timeout (2 s), with room to spare for a slow machine, where
					// the kernel alone would have waited minutes.
					assertThat(statusAndMillis[1]).isLessThan(5000);
				}
			}
			finally {
				callers.shutdownNow();
			}
			assertThat(gateway.bean(KeyStoreHealthIndicator.class).health().block().getStatus())
				.isEqualTo(Status.DOWN);
			gateway.admin().client().post().contentType(MediaType.APPLICATION_JSON)
				.bodyValue(Map.of("consumerId", "silent-pg-nope")).exchange()
				.expectStatus().isEqualTo(503)
				.expectBody(Map.class).value((body) -> assertThat(body).containsEntry("error", "store_unavailable"));
			// The key read before the partition keeps working throughout (keyauth.cache.stale-if-error).
			for (int i = 0; i < 5; i++) {
				assertThat(gateway.status("/x", key)).isEqualTo(200);
				assertThat(timedStatus(this.generator.generateKey())[0]).isEqualTo(503);
				Instances.sleep(1000);
			}
		}
		finally {
			network.restore();
		}

		// No restart: the openings the partition left waiting give up (max-create-connection-time,
		// 5 s), the store's breaker probes again, and new keys work. (A probe that failed just
		// before the link came back and one that succeeds just after make half of the half-open
		// breaker's calls: it opens for one more second.)
		long healedAt = System.nanoTime();
		Instances.await(20_000, () -> gateway.status("/x", this.generator.generateKey()) == 401);
		String fresh = (String) gateway.admin().create("silent-pg-after-" + UUID.randomUUID(), List.of()).get("key");
		Instances.awaitStatus(5000, 200, () -> gateway.status("/x", fresh));
		System.out.println("a new key worked " + Duration.ofNanos(System.nanoTime() - healedAt).toMillis()
				+ " ms after the link to PostgreSQL came back");
		assertThat(gateway.bean(KeyStoreHealthIndicator.class).health().block().getStatus()).isEqualTo(Status.UP);
		// A revocation made now is stored, and seen: the old key is refused.
		gateway.admin().revoke((String) created.get("id"));
		Instances.awaitStatus(5000, 401, () -> gateway.status("/x", key));
	}

	private static long[] timedStatus(String key) {
		long start = System.nanoTime();
		int status = gateway.status("/x", key);
		return new long[] { status, (System.nanoTime() - start) / 1_000_000 };
	}

}
