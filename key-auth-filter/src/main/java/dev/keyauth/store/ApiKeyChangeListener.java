package dev.keyauth.store;

import dev.keyauth.key.KeyHash;
import reactor.core.publisher.Mono;

/**
 * Told about every committed change to a key (created, revoked, and later updated, disabled or
 * rotated), so that caches everywhere drop what they hold for it. The admin API completes a call
 * only after this has completed.
 * <p>
 * An implementation should not signal an error: the change is committed by then, and the admin
 * caller would be told it failed. Retry in the background instead, as the plugin's own
 * {@code CacheInvalidator} does.
 */
@FunctionalInterface
public interface ApiKeyChangeListener {

	ApiKeyChangeListener NONE = (hash) -> Mono.empty();

	Mono<Void> keyChanged(KeyHash hash);

}
