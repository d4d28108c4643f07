package dev.keyauth.store;

import dev.keyauth.key.KeyHash;
import reactor.core.publisher.Mono;

/**
 * The one question on the request path: which key has this SHA-256? Answered by default through
 * the cache tiers in front of the {@link ApiKeyStore}.
 * <p>
 * Implementations must not block. They complete empty when no key has that hash, whatever its
 * state (revoked and expired keys are still returned: the caller decides), and signal an error
 * when the store cannot answer, so that "unknown" and "could not check" never get confused.
 */
@FunctionalInterface
public interface ApiKeyLookup {

	Mono<ApiKey> findByHash(KeyHash hash);

}
