package dev.keyauth.store;

import java.time.Instant;
import java.util.UUID;

import dev.keyauth.key.KeyHash;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The source of truth for keys. The request path reaches it through an {@link ApiKeyLookup}
 * (by default one that caches); the admin API uses it directly.
 */
public interface ApiKeyStore {

	/**
	 * The key with this hash, whatever its state; empty when there is none; an error when the
	 * store cannot answer. Must not block.
	 */
	Mono<ApiKey> findByHash(KeyHash hash);

	/** The hash a key is stored under, for invalidating caches; empty when there is no such key. */
	Mono<KeyHash> findHashById(UUID id);

	/**
	 * Stores a new key. Completes only once the row is durable, so a key handed to a caller
	 * always works. Signals {@link DuplicateKeyHashException} if the hash is already stored.
	 */
	Mono<ApiKey> create(NewApiKey key);

	Mono<ApiKey> findById(UUID id);

	/**
	 * Keys newest first, optionally for one consumer.
	 * @param consumerId only this consumer's keys, or all when {@code null}
	 * @param offset rows to skip
	 * @param limit most rows to return
	 */
	Flux<ApiKey> find(@Nullable String consumerId, long offset, int limit);

	/**
	 * Marks the key revoked at {@code at} unless it already is (the first revocation time is
	 * kept). Completes empty when there is no such key.
	 */
	Mono<ApiKey> revoke(UUID id, Instant at);

	/**
	 * Writes a key's mutable settings (name, scopes, metadata, expiry, rate limit) as given in
	 * {@code key}. Revoked keys are not changed. Completes with the stored key, or empty when
	 * there is no such (unrevoked) key.
	 */
	Mono<ApiKey> update(ApiKey key, Instant at);

	/**
	 * Suspends ({@code disabledAt} set) or resumes ({@code null}) a key that is not revoked.
	 * Completes with the stored key, or empty when there is no such (unrevoked) key.
	 */
	Mono<ApiKey> setDisabled(UUID id, @Nullable Instant disabledAt, Instant at);

	/**
	 * Rotates a key: stores {@code successor} and brings the expiry of the key {@code previousId}
	 * forward to {@code expiresBy} (unless it already expires earlier), both or neither, so that
	 * a failure leaves no successor whose raw key nobody was shown and no previous key cut short
	 * without one. Completes empty, writing nothing, when there is no such key or it is revoked
	 * (revocation is permanent, and a rotation racing it must not outlive it).
	 */
	Mono<ApiKeyRotation> rotate(UUID previousId, Instant expiresBy, NewApiKey successor, Instant at);

	/** Revokes every unrevoked key of a consumer; completes with the hashes of those revoked. */
	Flux<KeyHash> revokeAll(String consumerId, Instant at);

	/** Adds counted uses and moves last-used times forward; unknown ids are ignored. */
	Mono<Void> recordUsage(java.util.Collection<KeyUsage> usage);

	/**
	 * The keys created or changed after {@code since}, at most {@code limit} of them, each with
	 * the time of its last change. A starting instance reads them so that it can pass over a
	 * Redis entry read from the store before one of those changes, as the instances that heard of
	 * the change do. A store that cannot tell signals {@link UnsupportedOperationException} (the
	 * default): the instance says so at start-up, and holds Redis entries to their age alone.
	 */
	default Flux<KeyChange> changedSince(Instant since, int limit) {
		return Flux.error(new UnsupportedOperationException("This key store does not report recent changes"));
	}

	/**
	 * A secret shared by every gateway instance on this store, for signing what they cache for
	 * each other in Redis: the one stored, or {@code candidate} (64 hex digits) if none was
	 * stored yet, stored now; when instances start together, all get the one stored first.
	 * Empty (the default) when the store keeps none: each instance then signs with a secret of
	 * its own, and trusts only its own Redis entries.
	 */
	default Mono<String> sharedSecret(String candidate) {
		return Mono.empty();
	}

}
