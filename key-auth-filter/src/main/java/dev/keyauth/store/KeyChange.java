package dev.keyauth.store;

import java.time.Instant;

import dev.keyauth.key.KeyHash;

/**
 * A change to a stored key (its creation, an update, a suspension, a revocation), as
 * {@link ApiKeyStore#changedSince} reports it.
 *
 * @param hash the hash the key is stored under
 * @param at when the key last changed, by the clock of the instance that changed it
 */
public record KeyChange(KeyHash hash, Instant at) {
}
