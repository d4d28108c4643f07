package dev.keyauth.store;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import org.springframework.r2dbc.core.DatabaseClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store contract, run against each database the store supports (real PostgreSQL and the
 * embedded H2), each with its schema applied by the real migrations.
 */
abstract class R2dbcApiKeyStoreTest {

	protected DatabaseClient client;

	protected R2dbcApiKeyStore store;

	private final ApiKeyGenerator generator = new ApiKeyGenerator(new ApiKeyFormat("sk_live_"));

	private final String consumer = "store-test-" + UUID.randomUUID();

	@Test
	void instancesStartingTogetherAllGetTheSecretStoredFirst() {
		this.client.sql("DELETE FROM keyauth_cache_secret").fetch().rowsUpdated().block(Duration.ofSeconds(10));
		List<String> candidates = List.of("a", "b", "c", "d").stream().map((digit) -> digit.repeat(64)).toList();
		List<String> got = Flux.fromIterable(candidates)
			.flatMap(this.store::sharedSecret)
			.collectList()
			.block(Duration.ofSeconds(10));
		assertThat(got).hasSize(4).containsOnly(got.get(0));
		assertThat(candidates).contains(got.get(0));
		StepVerifier.create(this.store.sharedSecret("e".repeat(64))).expectNext(got.get(0)).verifyComplete();
	}

	private NewApiKey newKey(String key, Instant expiresAt) {
		return newKey(key, expiresAt, Instant.now().truncatedTo(ChronoUnit.MICROS));
	}

	private NewApiKey newKey(String key, Instant expiresAt, Instant createdAt) {
		return new NewApiKey(this.generator.generateId(), KeyHash.sha256(key), key.substring(0, 12), this.consumer,
				"name", List.of("b", "a"), Map.of("plan", "pro", "limits", Map.of("rps", 5)), createdAt, expiresAt);
	}

	@Test
	void reportsTheKeysCreatedOrChangedSinceATimeWithTheirLastChange() {
		Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
		Instant anHourAgo = now.minus(Duration.ofHours(1));
		NewApiKey untouched = newKey(this.generator.generateKey(), null, anHourAgo);
		NewApiKey created = newKey(this.generator.generateKey(), null, now);
		NewApiKey updated = newKey(this.generator.generateKey(), null, anHourAgo);
		NewApiKey revoked = newKey(this.generator.generateKey(), null, anHourAgo);
		for (NewApiKey row : List.of(untouched, created, updated, revoked)) {
			this.store.create(row).block(Duration.ofSeconds(10));
		}
		this.store.setDisabled(updated.id(), now.plusSeconds(1), now.plusSeconds(1)).block(Duration.ofSeconds(10));
		this.store.revoke(revoked.id(), now.plusSeconds(2)).block(Duration.ofSeconds(10));

		Map<KeyHash, Instant> changes = this.store.changedSince(now.minus(Duration.ofMinutes(1)), 100_000)
			.collectMap(KeyChange::hash, KeyChange::at)
			.block(Duration.ofSeconds(10));
		assertThat(changes).containsEntry(created.hash(), now)
			.containsEntry(updated.hash(), now.plusSeconds(1))
			.containsEntry(revoked.hash(), now.plusSeconds(2))
			.doesNotContainKey(untouched.hash());
		StepVerifier.create(this.store.changedSince(now.minus(Duration.ofMinutes(1)), 1))
			.expectNextCount(1)
			.verifyComplete();
	}

	@Test
	void storesOnlyTheHashAndFindsTheKeyByIt() {
		String key = this.generator.generateKey();
		NewApiKey row = newKey(key, Instant.parse("2099-01-01T00:00:00Z"));
		StepVerifier.create(this.store.create(row)).expectNextCount(1).verifyComplete();

		StepVerifier.create(this.store.findByHash(KeyHash.sha256(key))).assertNext((found) -> {
			assertThat(found.id()).isEqualTo(row.id());
			assertThat(found.consumerId()).isEqualTo(this.consumer);
			assertThat(found.scopes()).containsExactly("b", "a");
			assertThat(found.metadata()).isEqualTo(Map.of("plan", "pro", "limits", Map.of("rps", 5)));
			assertThat(found.createdAt()).isEqualTo(row.createdAt());
			assertThat(found.expiresAt()).isEqualTo(row.expiresAt());
			assertThat(found.revokedAt()).isNull();
		}).verifyComplete();
		StepVerifier.create(this.store.findByHash(KeyHash.sha256(this.generator.generateKey()))).verifyComplete();

		String stored = this.client.sql("SELECT key_start || consumer_id || coalesce(name, '') "
				+ "|| CAST(metadata AS varchar) AS everything FROM keyauth_api_keys WHERE id = :id")
			.bind("id", row.id())
			.map((r, m) -> r.get("everything", String.class))
			.one()
			.block();
		assertThat(stored).contains(this.consumer).doesNotContain(key.substring(12));
		StepVerifier.create(this.store.findHashById(row.id())).expectNext(KeyHash.sha256(key)).verifyComplete();
	}

	@Test
	void aSecondRowWithTheSameHashIsRefused() {
		String key = this.generator.generateKey();
		StepVerifier.create(this.store.create(newKey(key, null))).expectNextCount(1).verifyComplete();
		StepVerifier.create(this.store.create(newKey(key, null))).verifyError(DuplicateKeyHashException.class);
	}

	@Test
	void revokeSetsTheTimeOnceAndUnknownIdsCompleteEmpty() {
		NewApiKey row = newKey(this.generator.generateKey(), null);
		this.store.create(row).block();
		Instant first = Instant.parse("2026-01-01T00:00:00Z");
		StepVerifier.create(this.store.revoke(row.id(), first))
			.assertNext((key) -> assertThat(key.revokedAt()).isEqualTo(first))
			.verifyComplete();
		StepVerifier.create(this.store.revoke(row.id(), first.plusSeconds(60)))
			.assertNext((key) -> assertThat(key.revokedAt()).isEqualTo(first))
			.verifyComplete();
		StepVerifier.create(this.store.revoke(UUID.randomUUID(), first)).verifyComplete();
		StepVerifier.create(this.store.findById(UUID.randomUUID())).verifyComplete();
	}

	@Test
	void listsNewestFirstByConsumerWithOffsetAndLimit() {
		for (int i = 0; i < 3; i++) {
			this.store.create(newKey(this.generator.generateKey(), null)).block();
		}
		List<ApiKey> all = this.store.find(this.consumer, 0, 10).collectList().block();
		assertThat(all).hasSize(3).isSortedAccordingTo((a, b) -> b.createdAt().compareTo(a.createdAt()));
		assertThat(this.store.find(this.consumer, 1, 1).collectList().block()).containsExactly(all.get(1));
		assertThat(this.store.find(null, 0, 2).collectList().block()).hasSize(2);
	}

	abstract SchemaMigration migration();

	@Test
	void theMigrationIsRepeatable() {
		MigrateResult again = migration().migrate();
		assertThat(again.migrationsExecuted).isZero();
		// Flyway leaves the target version out when nothing ran; the log still names the version.
		assertThat(SchemaMigration.describe(again)).matches("API key schema is at version \\d+ \\(up to date\\)");
	}

	@Test
	void updatesSuspensionExpiryAndUsage() {
		NewApiKey row = newKey(this.generator.generateKey(), null);
		this.store.create(row).block();
		Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
		ApiKey current = this.store.findById(row.id()).block();
		ApiKey changed = new ApiKey(current.id(), current.keyStart(), current.consumerId(), "renamed", List.of("x"),
				Map.of("v", 2), current.createdAt(), Instant.parse("2099-01-01T00:00:00Z"), null, null, null,
				new RateLimit(5, 10), null, 0);
		StepVerifier.create(this.store.update(changed, at)).assertNext((key) -> {
			assertThat(key.name()).isEqualTo("renamed");
			assertThat(key.scopes()).containsExactly("x");
			assertThat(key.metadata()).isEqualTo(Map.of("v", 2));
			assertThat(key.rateLimit()).isEqualTo(new RateLimit(5, 10));
		}).verifyComplete();
		StepVerifier.create(this.store.setDisabled(row.id(), at, at))
			.assertNext((key) -> assertThat(key.disabledAt()).isEqualTo(at))
			.verifyComplete();
		StepVerifier.create(this.store.setDisabled(row.id(), null, at))
			.assertNext((key) -> assertThat(key.disabledAt()).isNull())
			.verifyComplete();
		this.store.recordUsage(List.of(new KeyUsage(row.id(), 3, at))).block();
		this.store.recordUsage(List.of(new KeyUsage(row.id(), 2, at.minusSeconds(10)))).block();
		StepVerifier.create(this.store.findById(row.id())).assertNext((key) -> {
			assertThat(key.requestCount()).isEqualTo(5);
			assertThat(key.lastUsedAt()).isEqualTo(at);
		}).verifyComplete();
	}

	private NewApiKey successorOf(UUID previous, String key) {
		return new NewApiKey(this.generator.generateId(), KeyHash.sha256(key), key.substring(0, 12), this.consumer,
				"name", List.of("a"), Map.of(), Instant.now().truncatedTo(ChronoUnit.MICROS), null, null, previous);
	}

	@Test
	void rotationStoresTheSuccessorAndBringsThePreviousExpiryForward() {
		NewApiKey previous = newKey(this.generator.generateKey(), null);
		this.store.create(previous).block();
		Instant at = Instant.parse("2026-06-01T00:00:00Z");
		String successorKey = this.generator.generateKey();
		NewApiKey successor = successorOf(previous.id(), successorKey);
		StepVerifier.create(this.store.rotate(previous.id(), at.plusSeconds(60), successor, at))
			.assertNext((rotation) -> {
				assertThat(rotation.successor().id()).isEqualTo(successor.id());
				assertThat(rotation.previous().id()).isEqualTo(previous.id());
				assertThat(rotation.previous().expiresAt()).isEqualTo(at.plusSeconds(60));
			})
			.verifyComplete();
		StepVerifier.create(this.store.findByHash(KeyHash.sha256(successorKey)))
			.assertNext((key) -> assertThat(key.rotatedFrom()).isEqualTo(previous.id()))
			.verifyComplete();
		StepVerifier.create(this.store.rotate(previous.id(), at.plusSeconds(600),
				successorOf(previous.id(), this.generator.generateKey()), at))
			.assertNext((rotation) -> assertThat(rotation.previous().expiresAt()).as("never pushed later")
				.isEqualTo(at.plusSeconds(60)))
			.verifyComplete();
	}

	@Test
	void aRotationThatFailsHalfWayWritesNothing() {
		NewApiKey previous = newKey(this.generator.generateKey(), null);
		this.store.create(previous).block();
		String taken = this.generator.generateKey();
		this.store.create(newKey(taken, null)).block();
		// The previous key's expiry is written first; the successor's insert then fails (its hash
		// is taken). Both are undone: no key cut short without a successor.
		Instant at = Instant.parse("2026-06-01T00:00:00Z");
		StepVerifier.create(this.store.rotate(previous.id(), at, successorOf(previous.id(), taken), at))
			.verifyError(DuplicateKeyHashException.class);
		StepVerifier.create(this.store.findById(previous.id()))
			.assertNext((key) -> assertThat(key.expiresAt()).isNull())
			.verifyComplete();
	}

	@Test
	void aRevokedOrUnknownKeyIsNotRotatedAndNoSuccessorIsStored() {
		NewApiKey revoked = newKey(this.generator.generateKey(), null);
		this.store.create(revoked).block();
		Instant at = Instant.parse("2026-06-01T00:00:00Z");
		this.store.revoke(revoked.id(), at).block();
		String successorKey = this.generator.generateKey();
		StepVerifier.create(this.store.rotate(revoked.id(), at.plusSeconds(60), successorOf(revoked.id(), successorKey), at))
			.verifyComplete();
		String unknownSuccessor = this.generator.generateKey();
		StepVerifier.create(this.store.rotate(UUID.randomUUID(), at, successorOf(revoked.id(), unknownSuccessor), at))
			.verifyComplete();
		StepVerifier.create(this.store.findByHash(KeyHash.sha256(successorKey))).verifyComplete();
		StepVerifier.create(this.store.findByHash(KeyHash.sha256(unknownSuccessor))).verifyComplete();
		StepVerifier.create(this.store.findById(revoked.id()))
			.assertNext((key) -> assertThat(key.expiresAt()).isNull())
			.verifyComplete();
	}

	@Test
	void revokesEveryKeyOfAConsumerAndNamesTheirHashes() {
		NewApiKey a = newKey(this.generator.generateKey(), null);
		NewApiKey b = newKey(this.generator.generateKey(), null);
		this.store.create(a).block();
		this.store.create(b).block();
		this.store.revoke(b.id(), Instant.now()).block();
		assertThat(this.store.revokeAll(this.consumer, Instant.now()).collectList().block()).containsExactly(a.hash());
		assertThat(this.store.findById(a.id()).block().revokedAt()).isNotNull();
		StepVerifier.create(this.store.findHashById(a.id())).expectNext(a.hash()).verifyComplete();
	}

}
