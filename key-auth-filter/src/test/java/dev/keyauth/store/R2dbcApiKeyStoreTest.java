package dev.keyauth.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import dev.keyauth.test.TestPostgres;
import dev.keyauth.test.TestServices;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.r2dbc.core.DatabaseClient;

import static org.assertj.core.api.Assertions.assertThat;

/** The store against real PostgreSQL, schema applied by the real migration. */
class R2dbcApiKeyStoreTest {

	private static DatabaseClient client;

	private static R2dbcApiKeyStore store;

	private final ApiKeyGenerator generator = new ApiKeyGenerator(new ApiKeyFormat("sk_live_"));

	private final String consumer = "store-test-" + UUID.randomUUID();

	@BeforeAll
	static void migrate() {
		new SchemaMigration(TestPostgres.jdbcUrl(), TestPostgres.user(), TestPostgres.password()).migrate();
		Map<String, String> p = TestPostgres.properties();
		ConnectionFactory factory = ConnectionFactories.get(io.r2dbc.spi.ConnectionFactoryOptions
			.parse(p.get("spring.r2dbc.url"))
			.mutate()
			.option(io.r2dbc.spi.ConnectionFactoryOptions.USER, p.get("spring.r2dbc.username"))
			.option(io.r2dbc.spi.ConnectionFactoryOptions.PASSWORD, p.get("spring.r2dbc.password"))
			.build());
		client = DatabaseClient.create(factory);
		store = new R2dbcApiKeyStore(client, new JsonMapper());
	}

	private NewApiKey newKey(String key, Instant expiresAt) {
		return new NewApiKey(this.generator.generateId(), KeyHash.sha256(key), key.substring(0, 12), this.consumer,
				"name", List.of("b", "a"), Map.of("plan", "pro", "limits", Map.of("rps", 5)),
				Instant.now().truncatedTo(ChronoUnit.MICROS), expiresAt);
	}

	@Test
	void storesOnlyTheHashAndFindsTheKeyByIt() {
		String key = this.generator.generateKey();
		NewApiKey row = newKey(key, Instant.parse("2099-01-01T00:00:00Z"));
		StepVerifier.create(store.create(row)).expectNextCount(1).verifyComplete();

		StepVerifier.create(store.findByHash(KeyHash.sha256(key))).assertNext((found) -> {
			assertThat(found.id()).isEqualTo(row.id());
			assertThat(found.consumerId()).isEqualTo(this.consumer);
			assertThat(found.scopes()).containsExactly("b", "a");
			assertThat(found.metadata()).isEqualTo(Map.of("plan", "pro", "limits", Map.of("rps", 5)));
			assertThat(found.createdAt()).isEqualTo(row.createdAt());
			assertThat(found.expiresAt()).isEqualTo(row.expiresAt());
			assertThat(found.revokedAt()).isNull();
		}).verifyComplete();
		StepVerifier.create(store.findByHash(KeyHash.sha256(this.generator.generateKey()))).verifyComplete();

		String stored = client.sql("SELECT encode(key_hash, 'hex') || key_start || consumer_id || coalesce(name, '') "
				+ "|| CAST(metadata AS text) AS everything FROM keyauth_api_keys WHERE id = :id")
			.bind("id", row.id())
			.map((r, m) -> r.get("everything", String.class))
			.one()
			.block();
		assertThat(stored).contains(KeyHash.sha256(key).toHex()).doesNotContain(key.substring(12));
	}

	@Test
	void aSecondRowWithTheSameHashIsRefused() {
		String key = this.generator.generateKey();
		StepVerifier.create(store.create(newKey(key, null))).expectNextCount(1).verifyComplete();
		StepVerifier.create(store.create(newKey(key, null))).verifyError(DuplicateKeyHashException.class);
	}

	@Test
	void revokeSetsTheTimeOnceAndUnknownIdsCompleteEmpty() {
		NewApiKey row = newKey(this.generator.generateKey(), null);
		store.create(row).block();
		Instant first = Instant.parse("2026-01-01T00:00:00Z");
		StepVerifier.create(store.revoke(row.id(), first))
			.assertNext((key) -> assertThat(key.revokedAt()).isEqualTo(first))
			.verifyComplete();
		StepVerifier.create(store.revoke(row.id(), first.plusSeconds(60)))
			.assertNext((key) -> assertThat(key.revokedAt()).isEqualTo(first))
			.verifyComplete();
		StepVerifier.create(store.revoke(UUID.randomUUID(), first)).verifyComplete();
		StepVerifier.create(store.findById(UUID.randomUUID())).verifyComplete();
	}

	@Test
	void listsNewestFirstByConsumerWithOffsetAndLimit() {
		for (int i = 0; i < 3; i++) {
			store.create(newKey(this.generator.generateKey(), null)).block();
		}
		List<ApiKey> all = store.find(this.consumer, 0, 10).collectList().block();
		assertThat(all).hasSize(3).isSortedAccordingTo((a, b) -> b.createdAt().compareTo(a.createdAt()));
		assertThat(store.find(this.consumer, 1, 1).collectList().block()).containsExactly(all.get(1));
		assertThat(store.find(null, 0, 2).collectList().block()).hasSize(2);
	}

	@Test
	void theMigrationIsRepeatable() {
		assertThat(new SchemaMigration(TestPostgres.jdbcUrl(), TestPostgres.user(), TestPostgres.password()).migrate()
			.migrationsExecuted).isZero();
	}

}
