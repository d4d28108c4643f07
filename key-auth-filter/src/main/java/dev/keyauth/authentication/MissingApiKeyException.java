package dev.keyauth.authentication;

/** The request carries no API key at all. */
public final class MissingApiKeyException extends KeyAuthenticationException {

	public static final MissingApiKeyException INSTANCE = new MissingApiKeyException();

	private MissingApiKeyException() {
		super("no API key in the request", null);
	}

}
