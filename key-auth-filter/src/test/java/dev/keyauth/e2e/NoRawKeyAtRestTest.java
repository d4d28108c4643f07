package dev.keyauth.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.test.AdminClient;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.Instances;
import dev.keyauth.test.TestRedis;
import dev.keyauth.test.TestServices;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After keys are created, used (so every cache tier holds them), updated, rotated and revoked,
 * nothing at rest, neither a PostgreSQL row nor a Redis key or value, contains a raw key or any
 * part of its secret beyond the visible start.
 */
@SpringBootTest(classes = MinimalGatewayApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "keyauth.admin.token=rest-token" })
class NoRawKeyAtRestTest {

	static final EchoUpstream upstream = new EchoUpstream();

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		TestServices.register(registry);
		TestServices.route(registry, 0, "echo", upstream::uri, "/**");
	}

	@AfterAll
	static void stop() {
		upstream.close();
	}

	@LocalServerPort
	int port;

	@LocalManagementPort
	int managementPort;

	@Autowired
	DatabaseClient database;

	@Test
	void neitherPostgresNorRedisHoldsAnyRawKey() {
		AdminClient admin = new AdminClient(this.managementPort, "rest-token");
		WebTestClient proxy = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + this.port)
			.responseTimeout(Duration.ofSeconds(10)).build();
		String consumer = "at-rest-" + UUID.randomUUID();
		List<String> keys = new ArrayList<>();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			Map<String, Object> created = admin.create(Map.of("consumerId", consumer, "scopes", List.of("s" + i),
					"metadata", Map.of("n", i)));
			keys.add((String) created.get("key"));
			ids.add((String) created.get("id"));
		}
		Map<String, Object> rotated = admin.client().post().uri("/{id}/rotate", ids.get(0)).exchange()
			.expectStatus().isCreated().expectBody(Map.class).returnResult().getResponseBody();
		keys.add((String) rotated.get("key"));
		admin.revoke(ids.get(1));
		// Past the repeated invalidation each change publishes a second later (it deletes the
		// Redis entries), so the uses below leave every key in Redis.
		Instances.sleep(1300);
		for (String key : keys) {
			proxy.get().uri("/x").header("X-API-Key", key).exchange().expectBody().returnResult();
			proxy.get().uri("/x").header("Authorization", "Bearer " + key).exchange().expectBody().returnResult();
		}

		String rows = String.join("\n", this.database
			.sql("SELECT CAST(row_to_json(k) AS text) AS row FROM keyauth_api_keys k WHERE consumer_id = :c")
			.bind("c", consumer)
			.map((row, metadata) -> row.get("row", String.class))
			.all()
			.collectList()
			.block());
		assertThat(rows).as("the rows are there").contains(consumer);

		RedisClient client = RedisClient.create(TestRedis.url());
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			RedisCommands<String, String> redis = connection.sync();
			// The Redis tier is written asynchronously, on each key's first use.
			Instances.await(5000, () -> keys.stream()
				.allMatch((key) -> redis.exists("keyauth:key:" + dev.keyauth.key.KeyHash.sha256(key).toHex()) == 1));
			StringBuilder redisContent = new StringBuilder();
			for (String name : redis.keys("keyauth:*")) {
				redisContent.append(name).append('\n');
				if ("string".equals(redis.type(name))) {
					redisContent.append(redis.get(name)).append('\n');
				}
			}
			assertThat(redisContent).as("Redis holds the records").contains(consumer);
			for (String key : keys) {
				String secret = key.substring(12);
				assertThat(rows).doesNotContain(key).doesNotContain(secret).doesNotContain(secret.substring(0, 16));
				assertThat(redisContent.toString()).doesNotContain(key).doesNotContain(secret)
					.doesNotContain(secret.substring(0, 16));
			}
		}
		finally {
			client.shutdown();
		}
	}

}
