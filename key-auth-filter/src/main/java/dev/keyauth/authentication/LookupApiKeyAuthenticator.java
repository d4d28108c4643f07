package dev.keyauth.authentication;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.support.Timeouts;
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
		if (presentedKey == null || presentedKey.length() != this.format.length()) {
			return INVALID;
		}
		// One conversion for both the checksum and the hash. A character outside ASCII becomes
		// '?', which no key contains, so such a key fails the format check.
		byte[] ascii = presentedKey.getBytes(StandardCharsets.US_ASCII);
		if (!this.format.isWellFormed(ascii)) {
			return INVALID;
		}
		Mono<ApiKey> found = this.lookup.findByHash(KeyHash.sha256(ascii));
		if (found instanceof Fuseable.ScalarCallable<?> answered) {
			// A cache hit is already here: decide now, without a timer or an operator chain,
			// and answer with a value the caller can read synchronously too.
			return decide(found, answered);
		}
		// Timeouts.within: a lookup of the user's own may call a client library that throws when
		// cancelled, and with Reactor's own timeout the request would then never be answered.
		return Timeouts.within(found, this.timeout)
			.onErrorMap((ex) -> !(ex instanceof KeyAuthenticationException), KeyAuthUnavailableException::new)
			.switchIfEmpty(INVALID)
			.handle(this::requireActive);
	}

	private Mono<ApiKey> decide(Mono<ApiKey> found, Fuseable.ScalarCallable<?> answered) {
		Object key;
		try {
			key = answered.call();
		}
		catch (KeyAuthenticationException ex) {
			return Mono.error(ex);
		}
		catch (Exception ex) {
			return Mono.error(new KeyAuthUnavailableException(ex));
		}
		if (!(key instanceof ApiKey apiKey) || !isActive(apiKey)) {
			return INVALID;
		}
		// The cache's own Mono of this key: nothing to allocate.
		return found;
	}

	private boolean isActive(ApiKey key) {
		// Most keys never expire: their state does not depend on the time, so read no clock.
		return (key.expiresAt() == null) ? key.isActiveAt(Instant.MIN) : key.isActiveAt(this.clock.instant());
	}

	private void requireActive(ApiKey key, SynchronousSink<ApiKey> sink) {
		if (isActive(key)) {
			sink.next(key);
		}
		else {
			sink.error(InvalidApiKeyException.INSTANCE);
		}
	}

}
