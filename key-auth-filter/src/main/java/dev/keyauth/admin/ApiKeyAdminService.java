package dev.keyauth.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.function.Function;

import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyChangeListener;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.NewApiKey;
import dev.keyauth.support.Timeouts;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.http.HttpStatus;

/**
 * Key management: issues keys (the raw key exists only in the returned {@link IssuedApiKey}),
 * lists, finds, updates, suspends, rotates and revokes them. Every change is committed first and
 * then announced to the {@link ApiKeyChangeListener}, which evicts the key from every cache.
 */
public class ApiKeyAdminService {

	private final ApiKeyStore store;

	private final ApiKeyGenerator generator;

	private final Clock clock;

	private final ApiKeyChangeListener changes;

	private final Duration timeout;

	/**
	 * @param timeout bound on each store call, so an unreachable store fails an admin call
	 * instead of hanging it
	 */
	public ApiKeyAdminService(ApiKeyStore store, ApiKeyGenerator generator, Clock clock, ApiKeyChangeListener changes,
			Duration timeout) {
		this.store = store;
		this.generator = generator;
		this.clock = clock;
		this.changes = changes;
		this.timeout = timeout;
	}

	Clock clock() {
		return this.clock;
	}

	/** PostgreSQL keeps microseconds: truncate so responses match every later read. */
	Instant now() {
		return this.clock.instant().truncatedTo(ChronoUnit.MICROS);
	}

	/** Generates, hashes and stores a key; completes once the row is committed. */
	public Mono<IssuedApiKey> create(CreateApiKeyRequest request) {
		return Mono.defer(() -> {
			Minted minted = mint(request, null);
			// A "not found" for this hash may be cached somewhere (someone presented the key before
			// it existed): drop it everywhere before handing the key out.
			return Timeouts.within(this.store.create(minted.row()), this.timeout)
				.flatMap((stored) -> this.changes.keyChanged(minted.row().hash())
					.thenReturn(new IssuedApiKey(minted.key(), stored)));
		});
	}

	private Minted mint(CreateApiKeyRequest settings, @Nullable UUID rotatedFrom) {
		String key = this.generator.generateKey();
		NewApiKey row = new NewApiKey(this.generator.generateId(), KeyHash.sha256(key),
				this.generator.format().visibleStart(key), settings.consumerId(), settings.name(), settings.scopes(),
				settings.metadata(), now(), settings.expiresAt(), settings.rateLimit(), rotatedFrom);
		return new Minted(key, row);
	}

	/** A raw key and the row that stores its hash; the raw key goes no further than the response. */
	private record Minted(String key, NewApiKey row) {

		@Override
		public String toString() {
			return "Minted[id=" + this.row.id() + "]";
		}

	}

	public Mono<ApiKey> find(UUID id) {
		return Timeouts.within(this.store.findById(id), this.timeout);
	}

	/**
	 * The key a raw key is, whatever its state (revoked, expired, disabled): for a key found in a
	 * log, a repository or a support ticket, so that it can be revoked. Empty when no key has its
	 * hash. Read from the store, never from a cache: the answer is for a person deciding what to
	 * do, and must be current.
	 */
	public Mono<ApiKey> identify(String key) {
		return Mono.defer(() -> {
			if (!this.generator.format().isWellFormed(key)) {
				return Mono.error(AdminRequestException.invalid(
						"key is not an API key of this gateway: its prefix, length or checksum is wrong"));
			}
			return Timeouts.within(this.store.findByHash(KeyHash.sha256(key)), this.timeout);
		});
	}

	public Flux<ApiKey> list(@Nullable String consumerId, long offset, int limit) {
		return Timeouts.within(this.store.find(consumerId, offset, limit), this.timeout);
	}

	/** Applies a partial update to a key that is not revoked; empty when there is none. */
	Mono<ApiKey> update(UUID id, UpdateApiKeyRequest request) {
		return changeUnrevoked(id, (key) -> this.store.update(request.applyTo(key), now()));
	}

	/** Suspends a key; it is refused like an unknown one until enabled again. */
	public Mono<ApiKey> disable(UUID id) {
		return changeUnrevoked(id, (key) -> (key.disabledAt() != null) ? Mono.just(key)
				: this.store.setDisabled(id, now(), now()));
	}

	public Mono<ApiKey> enable(UUID id) {
		return changeUnrevoked(id, (key) -> (key.disabledAt() == null) ? Mono.just(key)
				: this.store.setDisabled(id, null, now()));
	}

	/**
	 * Issues a new key with the old one's consumer, name, scopes, metadata and rate limit, and
	 * makes the old one expire after {@code grace} (at once for zero), both or neither.
	 * @param expiresAt expiry of the new key, or {@code null} for none
	 */
	Mono<Rotation> rotate(UUID id, Duration grace, @Nullable Instant expiresAt) {
		return find(id).switchIfEmpty(notFound(id)).flatMap((old) -> {
			if (!old.isActiveAt(this.clock.instant())) {
				return notActive(old);
			}
			CreateApiKeyRequest settings = new CreateApiKeyRequest(old.consumerId(), old.name(), old.scopes(),
					expiresAt, old.metadata(), old.rateLimit());
			Minted minted = mint(settings, old.id());
			Instant now = now();
			// Read first (hashOf): a failure after the commit would answer 503 for a rotation that
			// was made, with its successor never shown.
			return hashOf(id).switchIfEmpty(notFound(id))
				// One transaction: a rotation that failed half-way would leave either a successor
				// nobody was shown or a previous key cut short without one.
				.flatMap((previousHash) -> Timeouts
					.within(this.store.rotate(id, now.plus(grace), minted.row(), now), this.timeout)
					// Revoked since it was read above: the revocation stands, nothing was written.
					.switchIfEmpty(Mono.defer(() -> find(id).switchIfEmpty(notFound(id)).flatMap(this::notActive)))
					.flatMap((rotation) -> this.changes.keyChanged(minted.row().hash())
						.then(this.changes.keyChanged(previousHash))
						.thenReturn(new Rotation(new IssuedApiKey(minted.key(), rotation.successor()),
								rotation.previous()))));
		});
	}

	/**
	 * Revokes the key (idempotently) and evicts it from every cache; completes empty when there
	 * is no such key.
	 */
	public Mono<ApiKey> revoke(UUID id) {
		return hashOf(id).flatMap((hash) -> Timeouts.within(Mono.defer(() -> this.store.revoke(id, now())), this.timeout)
			.flatMap((revoked) -> this.changes.keyChanged(hash).thenReturn(revoked)));
	}

	/** Revokes every key of a consumer; completes with how many were revoked. */
	Mono<Long> revokeAll(String consumerId) {
		// Every revoked hash is read before any is announced: the store's timeout then bounds the
		// store alone, and cannot end the call between announcements, after the revocations are
		// committed, leaving the rest cached (a retry finds nothing left to revoke or announce).
		return Timeouts.within(Flux.defer(() -> this.store.revokeAll(consumerId, now())).collectList(), this.timeout)
			.flatMap((hashes) -> Flux.fromIterable(hashes)
				.concatMap(this.changes::keyChanged)
				.then(Mono.just((long) hashes.size())));
	}

	private Mono<ApiKey> changeUnrevoked(UUID id, Function<ApiKey, Mono<ApiKey>> change) {
		return find(id).switchIfEmpty(notFound(id)).flatMap((key) -> {
			if (key.revokedAt() != null) {
				return Mono.error(new AdminRequestException(HttpStatus.CONFLICT, "revoked",
						"the key is revoked; revocation is permanent"));
			}
			return hashOf(id).flatMap((hash) -> Timeouts.within(change.apply(key), this.timeout)
				.flatMap((changed) -> this.changes.keyChanged(hash).thenReturn(changed)));
		});
	}

	/**
	 * The key's hash, read before the change it is needed for, so that nothing after the commit
	 * reads the store: announcing the change does not fail (the plugin's listener retries in the
	 * background), and the caller never gets an error for a change that was made.
	 */
	private Mono<KeyHash> hashOf(UUID id) {
		return Timeouts.within(this.store.findHashById(id), this.timeout);
	}

	private <T> Mono<T> notActive(ApiKey key) {
		return Mono.error(new AdminRequestException(HttpStatus.CONFLICT, "not_active",
				"only an active key can be rotated; this one is " + key.statusAt(now())));
	}

	private static <T> Mono<T> notFound(UUID id) {
		return Mono.error(() -> AdminRequestException.notFound(id.toString()));
	}

	/**
	 * A key just created: the only object that ever holds the raw key, and only until it is
	 * written to the response.
	 */
	public record IssuedApiKey(String key, ApiKey apiKey) {

		@Override
		public String toString() {
			return "IssuedApiKey[id=" + this.apiKey.id() + ", keyStart=" + this.apiKey.keyStart() + "]";
		}

	}

	/** The key a rotation issued, and the old key with its new expiry. */
	record Rotation(IssuedApiKey issued, ApiKey previous) {
	}

}
