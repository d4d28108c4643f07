package dev.keyauth.authentication;

import dev.keyauth.store.ApiKey;
import reactor.core.publisher.Mono;

/**
 * Decides whether a presented key is good.
 * <p>
 * Completes with the key when it is active, or signals one of {@link InvalidApiKeyException} or
 * {@link KeyAuthUnavailableException}. Must not block.
 */
@FunctionalInterface
public interface ApiKeyAuthenticator {

	Mono<ApiKey> authenticate(String presentedKey);

}
