package dev.keyauth.admin;

import reactor.core.publisher.Mono;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.ServerResponse;

/** Renders admin errors as {@code {"error","message"}} with the matching status. */
final class AdminResponses {

	private AdminResponses() {
	}

	static Mono<ServerResponse> error(AdminRequestException ex) {
		ServerResponse.BodyBuilder response = ServerResponse.status(ex.status())
			.contentType(MediaType.APPLICATION_JSON)
			.header(HttpHeaders.CACHE_CONTROL, "no-store");
		if (ex.status() == HttpStatus.UNAUTHORIZED) {
			response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"keyauth-admin\"");
		}
		return response.bodyValue(ApiKeyView.error(ex.error(), ex.getMessage()));
	}

}
