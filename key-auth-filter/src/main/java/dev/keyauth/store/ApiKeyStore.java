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

}
