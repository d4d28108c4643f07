package dev.keyauth.admin;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.R2dbcApiKeyStore;
import dev.keyauth.store.SchemaMigration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.r2dbc.core.DatabaseClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Revoking a consumer's keys through the admin service on a real (embedded) database: every
 * revoked key is announced to the caches, however long the announcements take.
 */
class ApiKeyAdminServiceRevokeAllTest {

	private static final String R2DBC_URL = "r2dbc:h2:mem:///keyauth_revoke_all_test";

	private static final Duration STORE_TIMEOUT = Duration.ofMillis(300);

	private final Set<KeyHash> announced = ConcurrentHashMap.newKeySet();

	private final String consumer = "revoke-all-" + UUID.randomUUID();

	private R2dbcApiKeyStore store;

	private ApiKeyAdminService service;

	@BeforeEach
	void connect() {
		ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(R2DBC_URL);
		SchemaMigration.forR2dbc(options, null).migrate();
		this.store = new R2dbcApiKeyStore(DatabaseClient.create(ConnectionFactories.get(options)), new JsonMapper(),
				R2dbcApiKeyStore.Dialect.H2);
		// Each announcement takes longer than the store's timeout, as when Redis is slow: a
		// timeout that ran between the store's answers would end the call half-way.
		this.service = new ApiKeyAdminService(this.store, new ApiKeyGenerator(new ApiKeyFormat("sk_live_")),
				Clock.systemUTC(), (hash) -> Mono.delay(STORE_TIMEOUT.multipliedBy(2))
					.then(Mono.fromRunnable(() -> this.announced.add(hash))),
				STORE_TIMEOUT);
	}

	@Test
	void everyRevokedKeyIsAnnouncedEvenWhenAnnouncingTakesLongerThanTheStoreTimeout() {
		for (int i = 0; i < 3; i++) {
			this.service.create(new CreateApiKeyRequest(this.consumer, null, List.of(), null, Map.of(), null)).block();
		}
		this.announced.clear();
		StepVerifier.create(this.service.revokeAll(this.consumer)).expectNext(3L).verifyComplete();
		List<KeyHash> revoked = this.service.list(this.consumer, 0, 10)
			.map((key) -> this.store.findHashById(key.id()).block())
			.collectList()
			.block();
		assertThat(revoked).hasSize(3);
		assertThat(this.announced).containsExactlyInAnyOrderElementsOf(revoked);
		// Nothing left to revoke, and nothing more announced.
		this.announced.clear();
		StepVerifier.create(this.service.revokeAll(this.consumer)).expectNext(0L).verifyComplete();
		assertThat(this.announced).isEmpty();
	}

}
