package dev.keyauth.authentication;

import java.time.Clock;
import java.time.Duration;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyLookup;
import reactor.core.Fuseable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SynchronousSink;

/**
 * The default {@link ApiKeyAuthenticator}: format and checksum first (no I/O for invented or
 * mistyped keys), then SHA-256, then one lookup by hash, then the key's state at this instant.
 * <p>
 * Failure modes: a lookup that errors or takes longer than {@code timeout} becomes
 * {@link KeyAuthUnavailableException} (503), never a 401: an unreachable store must not log
 * legitimate callers out, and must not let anyone in either.
 */
public class LookupApiKeyAuthenticator implements ApiKeyAuthenticator {

	private static final Mono<ApiKey> INVALID = Mono.error(InvalidApiKeyException.INSTANCE);

	private final ApiKeyFormat format;

	private final ApiKeyLookup lookup;

	private final Clock clock;

	private final Duration timeout;

	public LookupApiKeyAuthenticator(ApiKeyFormat format, ApiKeyLookup lookup, Clock clock, Duration timeout) {
		this.format = format;
		this.lookup = lookup;
		this.clock = clock;
		this.timeout = timeout;
	}

	@Override
	public Mono<ApiKey> authenticate(String presentedKey) {
		if (!this.format.isWellFormed(presentedKey)) {
			return INVALID;
		}
		Mono<ApiKey> found = this.lookup.findByHash(KeyHash.sha256(presentedKey));
		if (!(found instanceof Fuseable.ScalarCallable)) {
			// Only an answer still to come needs a timer: a cache hit is already here, and
			// scheduling (and cancelling) a timeout for it on every request costs more than the
			// rest of the authentication together.
			found = found.timeout(this.timeout);
		}
		return found.onErrorMap((ex) -> !(ex instanceof KeyAuthenticationException), KeyAuthUnavailableException::new)
			.switchIfEmpty(INVALID)
			.handle(this::requireActive);
	}

	private void requireActive(ApiKey key, SynchronousSink<ApiKey> sink) {
		if (key.isActiveAt(this.clock.instant())) {
			sink.next(key);
		}
		else {
			sink.error(InvalidApiKeyException.INSTANCE);
		}
	}

}
