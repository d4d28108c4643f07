package dev.keyauth.health;

import java.time.Duration;

import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.support.Timeouts;
import reactor.core.publisher.Mono;

import org.springframework.boot.health.contributor.AbstractReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * DOWN when the key store cannot answer a lookup in time. While it is down, keys read from it
 * recently keep working from the caches (stale-if-error) and every other key gets 503.
 */
public class KeyStoreHealthIndicator extends AbstractReactiveHealthIndicator {

	private static final KeyHash PROBE = KeyHash.fromBytes(new byte[KeyHash.LENGTH]);

	private final ApiKeyStore store;

	private final String description;

	private final Duration timeout;

	public KeyStoreHealthIndicator(ApiKeyStore store, String description, Duration timeout) {
		super("Key store health check failed");
		this.store = store;
		this.description = description;
		this.timeout = timeout;
	}

	@Override
	protected Mono<Health> doHealthCheck(Health.Builder builder) {
		return Timeouts.within(this.store.findByHash(PROBE), this.timeout)
			.then(Mono.fromSupplier(() -> builder.up().withDetail("store", this.description).build()));
	}

}
