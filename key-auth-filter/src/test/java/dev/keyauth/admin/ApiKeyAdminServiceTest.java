package dev.keyauth.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyChangeListener;
import dev.keyauth.store.R2dbcApiKeyStore;
import dev.keyauth.store.SchemaMigration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.r2dbc.core.DatabaseClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.spy;

/**
 * The admin service's writes on a real (embedded) database: what is written, what the caches are
 * told, a revocation that lands while a rotation of the same key is under way, a store that fails
 * once a change is committed, and announcements slower than the store's timeout.
 */
class ApiKeyAdminServiceTest {

	private static final String R2DBC_URL = "r2dbc:h2:mem:///keyauth_admin_service_test";

	private final Set<KeyHash> announced = ConcurrentHashMap.newKeySet();

	private final String consumer = "rotation-" + UUID.randomUUID();

	private R2dbcApiKeyStore store;

	private ApiKeyAdminService service;

	@BeforeEach
	void connect() {
		ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(R2DBC_URL);
		SchemaMigration.forR2dbc(options, null).migrate();
		this.store = spy(new R2dbcApiKeyStore(DatabaseClient.create(ConnectionFactories.get(options)),
				new JsonMapper(), R2dbcApiKeyStore.Dialect.H2));
		this.service = service((hash) -> Mono.fromRunnable(() -> this.announced.add(hash)), Duration.ofSeconds(5));
	}

	private ApiKeyAdminService service(ApiKeyChangeListener changes, Duration timeout) {
		return new ApiKeyAdminService(this.store, new ApiKeyGenerator(new ApiKeyFormat("sk_live_")), Clock.systemUTC(),
				changes, timeout);
	}

	private ApiKey create() {
		return this.service.create(new CreateApiKeyRequest(this.consumer, "n", List.of("s"), null, Map.of(), null))
			.block()
			.apiKey();
	}

	@Test
	void identifiesARawKeyFromTheStoreAndRefusesWhatIsNoKeyWithoutAQuery() {
		ApiKeyAdminService.IssuedApiKey issued = this.service
			.create(new CreateApiKeyRequest(this.consumer, "n", List.of("s"), null, Map.of(), null))
			.block();
		StepVerifier.create(this.service.identify(issued.key()))
			.assertNext((key) -> assertThat(key.id()).isEqualTo(issued.apiKey().id()))
			.verifyComplete();
		StepVerifier.create(this.service.identify(new ApiKeyGenerator(new ApiKeyFormat("sk_live_")).generateKey()))
			.verifyComplete();
		AtomicBoolean queried = new AtomicBoolean();
		doAnswer((call) -> {
			queried.set(true);
			return call.callRealMethod();
		}).when(this.store).findByHash(any());
		String key = issued.key();
		char last = key.charAt(key.length() - 1);
		StepVerifier.create(this.service.identify(key.substring(0, key.length() - 1) + ((last == 'x') ? 'y' : 'x')))
			.expectErrorSatisfies((error) -> assertThat(error).isInstanceOf(AdminRequestException.class)
				.satisfies((refused) -> assertThat(((AdminRequestException) refused).status())
					.isEqualTo(HttpStatus.BAD_REQUEST)))
			.verify();
		assertThat(queried).isFalse();
	}

	@Test
	void rotationIssuesAWorkingSuccessorAndCutsThePreviousKeyShort() {
		ApiKey previous = create();
		this.announced.clear();
		Instant before = Instant.now();
		ApiKeyAdminService.Rotation rotation = this.service.rotate(previous.id(), Duration.ofHours(1), null).block();
		KeyHash successorHash = KeyHash.sha256(rotation.issued().key());
		StepVerifier.create(this.store.findByHash(successorHash))
			.assertNext((key) -> assertThat(key.rotatedFrom()).isEqualTo(previous.id()))
			.verifyComplete();
		assertThat(rotation.previous().expiresAt()).isBetween(before.plus(Duration.ofHours(1)).minusSeconds(1),
				Instant.now().plus(Duration.ofHours(1)));
		// Both keys leave every cache: the successor's "unknown" and the previous key's old expiry.
		assertThat(this.announced).containsExactlyInAnyOrder(successorHash, this.store.findHashById(previous.id()).block());
	}

	@Test
	void onceTheRotationIsCommittedAStoreFailureCannotTurnItIntoAnError() {
		ApiKey previous = create();
		KeyHash previousHash = this.store.findHashById(previous.id()).block();
		this.announced.clear();
		// From the moment the rotation is written, the store fails every call.
		AtomicBoolean committed = new AtomicBoolean();
		doAnswer((invocation) -> ((Mono<?>) invocation.callRealMethod()).doOnSuccess((done) -> committed.set(true)))
			.when(this.store)
			.rotate(eq(previous.id()), any(), any(), any());
		doAnswer((invocation) -> committed.get() ? Mono.error(new IllegalStateException("store down"))
				: invocation.callRealMethod())
			.when(this.store)
			.findHashById(any());
		ApiKeyAdminService.Rotation rotation = this.service.rotate(previous.id(), Duration.ofHours(1), null).block();
		// The caller got the successor it can use, and every cache was told about both keys.
		assertThat(rotation.issued().key()).isNotBlank();
		assertThat(this.announced).containsExactlyInAnyOrder(KeyHash.sha256(rotation.issued().key()), previousHash);
	}

	@Test
	void aKeyRevokedWhileItIsBeingRotatedStaysRevokedAndGetsNoSuccessor() {
		ApiKey previous = create();
		// The revocation lands after the service has read the key as active, just before the
		// rotation is written.
		doAnswer((invocation) -> {
			Mono<?> rotation = (Mono<?>) invocation.callRealMethod();
			return this.store.revoke(previous.id(), Instant.now()).then(rotation);
		}).when(this.store)
			.rotate(eq(previous.id()), any(), any(), any());
		StepVerifier.create(this.service.rotate(previous.id(), Duration.ofHours(1), null))
			.verifyErrorSatisfies((ex) -> {
				assertThat(ex).isInstanceOf(AdminRequestException.class);
				assertThat(((AdminRequestException) ex).status()).isEqualTo(HttpStatus.CONFLICT);
				assertThat(ex.getMessage()).contains("revoked");
			});
		assertThat(this.service.list(this.consumer, 0, 10).collectList().block()).singleElement()
			.satisfies((key) -> {
				assertThat(key.id()).isEqualTo(previous.id());
				assertThat(key.revokedAt()).isNotNull();
				assertThat(key.expiresAt()).isNull();
			});
	}

	@Test
	void everyRevokedKeyIsAnnouncedEvenWhenAnnouncingTakesLongerThanTheStoreTimeout() {
		for (int i = 0; i < 3; i++) {
			create();
		}
		this.announced.clear();
		// Each announcement takes longer than the store's timeout, as when Redis is slow: a
		// timeout that ran between the store's answers would end the call half-way.
		Duration timeout = Duration.ofMillis(300);
		ApiKeyAdminService slowToAnnounce = service((hash) -> Mono.delay(timeout.multipliedBy(2))
			.then(Mono.fromRunnable(() -> this.announced.add(hash))), timeout);
		StepVerifier.create(slowToAnnounce.revokeAll(this.consumer)).expectNext(3L).verifyComplete();
		List<KeyHash> revoked = this.service.list(this.consumer, 0, 10)
			.concatMap((key) -> this.store.findHashById(key.id()))
			.collectList()
			.block();
		assertThat(revoked).hasSize(3);
		assertThat(this.announced).containsExactlyInAnyOrderElementsOf(revoked);
		// Nothing left to revoke, and nothing more announced.
		this.announced.clear();
		StepVerifier.create(slowToAnnounce.revokeAll(this.consumer)).expectNext(0L).verifyComplete();
		assertThat(this.announced).isEmpty();
	}

}
