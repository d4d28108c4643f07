package dev.keyauth.authentication;

/**
 * The key could not be checked: the store failed or did not answer in time. The gateway answers
 * 503, never 401, because it does not know whether the key is good.
 */
public final class KeyAuthUnavailableException extends KeyAuthenticationException {

	public KeyAuthUnavailableException(Throwable cause) {
		super("API key store unavailable: " + cause, cause);
	}

}
