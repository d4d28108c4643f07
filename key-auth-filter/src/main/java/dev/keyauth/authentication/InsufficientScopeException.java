package dev.keyauth.authentication;

import java.util.List;

/**
 * The key is valid but lacks a scope the route requires (403, RFC 6750 {@code insufficient_scope}).
 */
public final class InsufficientScopeException extends KeyAuthenticationException {

	private final List<String> required;

	public InsufficientScopeException(List<String> required) {
		super("API key lacks a required scope", null);
		this.required = List.copyOf(required);
	}

	/** Every scope the route requires (not only the missing ones). */
	public List<String> required() {
		return this.required;
	}

}
