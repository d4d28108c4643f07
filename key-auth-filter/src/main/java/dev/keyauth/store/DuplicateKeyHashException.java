package dev.keyauth.store;

/**
 * A key with the same hash is already stored. With 256 random bits this only happens if the
 * same key is inserted twice; the store refuses it rather than letting two rows share a hash.
 */
public class DuplicateKeyHashException extends RuntimeException {

	public DuplicateKeyHashException(Throwable cause) {
		super("an API key with this hash already exists", cause);
	}

}
