package dev.keyauth.authentication;

/**
 * Why a request could not be let through. Subclasses are the only outcomes there are:
 * {@link MissingApiKeyException}, {@link InvalidApiKeyException},
 * {@link InsufficientScopeException}, {@link KeyAuthUnavailableException} and
 * {@link RouteMisconfiguredException}.
 * <p>
 * These are expected outcomes, not bugs: no stack trace is filled in, and the frequent ones are
 * shared instances, so refusing a flood of bad keys costs no allocation.
 */
public abstract sealed class KeyAuthenticationException extends RuntimeException
		permits MissingApiKeyException, InvalidApiKeyException, InsufficientScopeException,
		KeyAuthUnavailableException, RouteMisconfiguredException {

	KeyAuthenticationException(String message, Throwable cause) {
		super(message, cause, false, false);
	}

}
