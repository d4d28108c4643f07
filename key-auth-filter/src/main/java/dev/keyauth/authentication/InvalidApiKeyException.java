package dev.keyauth.authentication;

/**
 * The request carries a key that does not authenticate: malformed, failing its checksum,
 * unknown, revoked or expired, or two different keys at once. Deliberately one type with one
 * shared instance: nothing downstream of this point can, even by accident, tell callers which.
 */
public final class InvalidApiKeyException extends KeyAuthenticationException {

	public static final InvalidApiKeyException INSTANCE = new InvalidApiKeyException();

	private InvalidApiKeyException() {
		super("invalid API key", null);
	}

}
