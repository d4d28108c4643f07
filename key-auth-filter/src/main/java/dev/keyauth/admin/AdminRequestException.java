package dev.keyauth.admin;

import org.springframework.http.HttpStatus;

/**
 * A refused admin request: the status, a stable machine-readable error code and a message that
 * says what to fix. Rendered as {@code {"error": ..., "message": ...}}.
 */
public class AdminRequestException extends RuntimeException {

	private final HttpStatus status;

	private final String error;

	public AdminRequestException(HttpStatus status, String error, String message) {
		super(message, null, false, false);
		this.status = status;
		this.error = error;
	}

	static AdminRequestException invalid(String message) {
		return new AdminRequestException(HttpStatus.BAD_REQUEST, "invalid_request", message);
	}

	static AdminRequestException notFound(String id) {
		return new AdminRequestException(HttpStatus.NOT_FOUND, "not_found", "no API key with id " + id);
	}

	public HttpStatus status() {
		return this.status;
	}

	public String error() {
		return this.error;
	}

}
