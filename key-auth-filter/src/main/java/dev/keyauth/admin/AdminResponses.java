package dev.keyauth.admin;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerResponse;

/** Renders admin errors as {@code {"error","message"}} with the matching status. */
final class AdminResponses {

	private static final Log logger = LogFactory.getLog(AdminResponses.class);

	private AdminResponses() {
	}

	/**
	 * Any failure of an admin call as JSON. Failures that are not a refused request can only come
	 * from the store (the call validated its input first), so they are 503 and can be retried:
	 * creating never half-happens (the insert is the last write) and revoking is idempotent.
	 */
	static Mono<ServerResponse> error(Throwable failure) {
		if (failure instanceof AdminRequestException refused) {
			return error(refused);
		}
		logger.warn("Admin call failed because the key store is unavailable: " + failure);
		return error(new AdminRequestException(HttpStatus.SERVICE_UNAVAILABLE, "store_unavailable",
				"the key store is unavailable; retry later"));
	}

	static Mono<ServerResponse> error(AdminRequestException ex) {
		return error(ex, null);
	}

	/** The refusal, with the {@code Allow} header a 405 must carry. */
	static Mono<ServerResponse> error(AdminRequestException ex, @Nullable String allow) {
		ServerResponse.BodyBuilder response = ServerResponse.status(ex.status())
			.contentType(MediaType.APPLICATION_JSON)
			.header(HttpHeaders.CACHE_CONTROL, "no-store");
		if (ex.status() == HttpStatus.CONTENT_TOO_LARGE) {
			// The rest of the oversized body is never read: don't reuse the connection for another request.
			response.header(HttpHeaders.CONNECTION, "close");
		}
		if (ex.status() == HttpStatus.UNAUTHORIZED) {
			response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"keyauth-admin\"");
		}
		if (allow != null) {
			response.header(HttpHeaders.ALLOW, allow);
		}
		return response.bodyValue(ApiKeyView.error(ex.error(), ex.getMessage()));
	}

}
