package dev.keyauth.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.util.StringUtils;
import org.springframework.web.reactive.function.server.HandlerFilterFunction;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * Lets an admin call through only with {@code Authorization: Bearer <admin token>}.
 * <p>
 * The presented and the configured token are both reduced to SHA-256 and compared with
 * {@link MessageDigest#isEqual}, so neither the content nor the length of the token leaks through
 * timing. With no token configured every call is refused: there is no default password.
 */
public class AdminTokenFilter implements HandlerFilterFunction<ServerResponse, ServerResponse> {

	private static final String BEARER_PREFIX = "Bearer ";

	private final byte @Nullable [] tokenDigest;

	public AdminTokenFilter(@Nullable String token) {
		this.tokenDigest = StringUtils.hasText(token) ? sha256(token) : null;
	}

	/** Whether any call can pass at all. */
	public boolean isConfigured() {
		return this.tokenDigest != null;
	}

	@Override
	public Mono<ServerResponse> filter(ServerRequest request, HandlerFunction<ServerResponse> next) {
		if (this.tokenDigest == null) {
			return AdminResponses.error(new AdminRequestException(HttpStatus.FORBIDDEN, "admin_disabled",
					"the admin API is disabled because no admin token is configured (KEYAUTH_ADMIN_TOKEN)"));
		}
		if (!presentsToken(request.headers().header(HttpHeaders.AUTHORIZATION))) {
			return AdminResponses.error(new AdminRequestException(HttpStatus.UNAUTHORIZED, "unauthorized",
					"send the admin token as 'Authorization: Bearer <token>'"));
		}
		return next.handle(request);
	}

	private boolean presentsToken(List<String> authorization) {
		if (authorization.size() != 1) {
			return false;
		}
		String value = authorization.get(0);
		if (!value.regionMatches(true, 0, BEARER_PREFIX, 0, BEARER_PREFIX.length())) {
			return false;
		}
		byte[] presented = sha256(value.substring(BEARER_PREFIX.length()).strip());
		return MessageDigest.isEqual(presented, this.tokenDigest);
	}

	private static byte[] sha256(String value) {
		try {
			return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
