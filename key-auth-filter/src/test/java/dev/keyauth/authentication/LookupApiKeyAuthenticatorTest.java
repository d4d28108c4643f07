package dev.keyauth.authentication;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.test.StuckCall;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The authenticator's decisions, with the lookup replaced by a map: this is a unit test of the
 * decision logic; the real store is exercised by the store and end-to-end tests.
 */
class LookupApiKeyAuthenticatorTest {

	private static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");

	private final ApiKeyFormat format = new ApiKeyFormat("sk_live_");

	private final ApiKeyGenerator generator = new ApiKeyGenerator(this.format);

	private final Map<KeyHash, ApiKey> keys = new ConcurrentHashMap<>();

	private final AtomicInteger lookups = new AtomicInteger();

	private final ApiKeyLookup lookup = (hash) -> {
		this.lookups.incrementAndGet();
		return Mono.justOrEmpty(this.keys.get(hash));
	};

	private final LookupApiKeyAuthenticator authenticator = new LookupApiKeyAuthenticator(this.format, this.lookup,
			Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMillis(200));

	private String store(Instant expiresAt, Instant revokedAt) {
		String key = this.generator.generateKey();
		this.keys.put(KeyHash.sha256(key), new ApiKey(UUID.randomUUID(), this.format.visibleStart(key), "acme", null,
				List.of("read"), Map.of(), NOW.minusSeconds(60), expiresAt, revokedAt, null));
		return key;
	}

	@Test
	void anActiveKeyAuthenticates() {
		String key = store(null, null);
		StepVerifier.create(this.authenticator.authenticate(key))
			.assertNext((apiKey) -> assertThat(apiKey.consumerId()).isEqualTo("acme"))
			.verifyComplete();
	}

	@Test
	void malformedKeysAreRefusedWithoutALookup() {
		String key = this.generator.generateKey();
		String badChecksum = key.substring(0, key.length() - 1) + (key.endsWith("0") ? "1" : "0");
		// Same length as a key, with characters outside ASCII: one whose low byte is the
		// character it replaces, and a surrogate pair (two chars, one code point) in place of two.
		String lowByteTwin = key.substring(0, 20) + (char) (0x100 | key.charAt(20)) + key.substring(21);
		String surrogatePair = key.substring(0, 20) + "\uD83D\uDE00" + key.substring(22);
		for (String candidate : List.of("", "nonsense", badChecksum, "sk_live_", key + "x", "Bearer " + key,
				lowByteTwin, surrogatePair)) {
			StepVerifier.create(this.authenticator.authenticate(candidate)).verifyError(InvalidApiKeyException.class);
		}
		assertThat(this.lookups).hasValue(0);
	}

	@Test
	void unknownRevokedAndExpiredKeysAreAllTheSameInvalid() {
		String unknown = this.generator.generateKey();
		String revoked = store(null, NOW.minusSeconds(1));
		String expired = store(NOW.minusSeconds(1), null);
		String expiringNow = store(NOW, null);
		for (String key : List.of(unknown, revoked, expired, expiringNow)) {
			StepVerifier.create(this.authenticator.authenticate(key))
				.expectErrorMatches((ex) -> ex == InvalidApiKeyException.INSTANCE)
				.verify();
		}
	}

	@Test
	void aKeyExpiringLaterStillWorks() {
		StepVerifier.create(this.authenticator.authenticate(store(NOW.plusMillis(1), null))).expectNextCount(1).verifyComplete();
	}

	@Test
	void anAnswerStillToComeIsJudgedLikeACacheHit() {
		// Cache hits are decided synchronously; answers that arrive later go through operators.
		LookupApiKeyAuthenticator later = new LookupApiKeyAuthenticator(this.format,
				(hash) -> Mono.defer(() -> Mono.justOrEmpty(this.keys.get(hash))), Clock.fixed(NOW, ZoneOffset.UTC),
				Duration.ofSeconds(1));
		StepVerifier.create(later.authenticate(store(null, null))).expectNextCount(1).verifyComplete();
		StepVerifier.create(later.authenticate(store(null, NOW.minusSeconds(1))))
			.verifyError(InvalidApiKeyException.class);
		StepVerifier.create(later.authenticate(this.generator.generateKey())).verifyError(InvalidApiKeyException.class);
		LookupApiKeyAuthenticator failing = new LookupApiKeyAuthenticator(this.format,
				(hash) -> Mono.defer(() -> Mono.error(new IllegalStateException("down"))), Clock.systemUTC(),
				Duration.ofSeconds(1));
		StepVerifier.create(failing.authenticate(this.generator.generateKey()))
			.verifyError(KeyAuthUnavailableException.class);
	}

	@Test
	void aFailingStoreIsUnavailableNotInvalid() {
		LookupApiKeyAuthenticator failing = new LookupApiKeyAuthenticator(this.format,
				(hash) -> Mono.error(new IllegalStateException("connection refused")), Clock.systemUTC(),
				Duration.ofSeconds(1));
		StepVerifier.create(failing.authenticate(this.generator.generateKey()))
			.expectErrorSatisfies((ex) -> assertThat(ex).isInstanceOf(KeyAuthUnavailableException.class)
				.hasCauseInstanceOf(IllegalStateException.class))
			.verify();
	}

	@Test
	void aStoreThatDoesNotAnswerInTimeIsUnavailable() {
		LookupApiKeyAuthenticator hanging = new LookupApiKeyAuthenticator(this.format, (hash) -> Mono.never(),
				Clock.systemUTC(), Duration.ofMillis(50));
		StepVerifier.create(hanging.authenticate(this.generator.generateKey()))
			.expectError(KeyAuthUnavailableException.class)
			.verify(Duration.ofSeconds(5));
	}

	@Test
	void aLookupThatThrowsWhenCancelledStillTimesOut() {
		// A lookup of the user's own that calls a client library directly, as Lettuce behaves
		// when its commands are observed: the request still gets its 503, not a hang.
		StuckCall stuck = new StuckCall();
		LookupApiKeyAuthenticator hanging = new LookupApiKeyAuthenticator(this.format, (hash) -> stuck.mono(),
				Clock.systemUTC(), Duration.ofMillis(50));
		StepVerifier.create(hanging.authenticate(this.generator.generateKey()))
			.expectError(KeyAuthUnavailableException.class)
			.verify(Duration.ofSeconds(5));
		assertThat(stuck.cancels()).isEqualTo(1);
	}

}
