package dev.keyauth.filter;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.keyauth.authentication.InsufficientScopeException;
import dev.keyauth.authentication.InvalidApiKeyException;
import dev.keyauth.authentication.KeyAuthUnavailableException;
import dev.keyauth.authentication.KeyAuthenticationException;
import dev.keyauth.authentication.MissingApiKeyException;
import dev.keyauth.authentication.RouteMisconfiguredException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;

/**
 * Answers with a small JSON body and the RFC 6750 {@code WWW-Authenticate} challenge:
 * <ul>
 * <li>missing key: 401 {@code missing_api_key}, challenge with the realm only;</li>
 * <li>any invalid key: 401 {@code invalid_api_key}, challenge with {@code error="invalid_token"}.
 * One body, byte for byte, whether the key was malformed, unknown, revoked or expired;</li>
 * <li>valid key lacking a scope the route requires: 403 {@code insufficient_scope} naming the
 * required scopes, challenge with {@code error="insufficient_scope"};</li>
 * <li>store unavailable: 503 {@code auth_unavailable} with {@code Retry-After};</li>
 * <li>a route whose key-auth settings are invalid: 500 {@code route_misconfigured}. The fault is
 * the gateway's, not the caller's, and the log names it; the body does not.</li>
 * </ul>
 * Every body and header value is rendered once, here; a refusal writes prebuilt bytes.
 */
public class JsonKeyAuthFailureHandler implements KeyAuthFailureHandler {

	private static final Log logger = LogFactory.getLog(JsonKeyAuthFailureHandler.class);

	/** At most one warning per this interval while the store is failing, not one per request. */
	private static final long UNAVAILABLE_LOG_INTERVAL_NANOS = Duration.ofSeconds(10).toNanos();

	private final Refusal missing;

	private final Refusal invalid;

	private final Refusal unavailable;

	private final Refusal misconfigured;

	private final String challenge;

	private final JsonMapper json;

	// One rendered 403 per distinct set of required scopes, i.e. per route.
	private final Map<List<String>, Refusal> insufficientScope = new ConcurrentHashMap<>();

	private volatile long lastUnavailableLog = System.nanoTime() - UNAVAILABLE_LOG_INTERVAL_NANOS;

	public JsonKeyAuthFailureHandler(String realm, String credentialHint, Duration retryAfter, JsonMapper json) {
		String challenge = "Bearer realm=\"" + realm + "\"";
		this.challenge = challenge;
		this.json = json;
		this.missing = new Refusal(HttpStatus.UNAUTHORIZED, HttpHeaders.WWW_AUTHENTICATE, challenge,
				body(json, "missing_api_key", "An API key is required. " + credentialHint));
		this.invalid = new Refusal(HttpStatus.UNAUTHORIZED, HttpHeaders.WWW_AUTHENTICATE,
				challenge + ", error=\"invalid_token\"", body(json, "invalid_api_key", "The API key is not valid."));
		this.unavailable = new Refusal(HttpStatus.SERVICE_UNAVAILABLE, HttpHeaders.RETRY_AFTER,
				Long.toString(Math.max(1, retryAfter.toSeconds())), body(json, "auth_unavailable",
						"API key authentication is temporarily unavailable. Retry later."));
		this.misconfigured = new Refusal(HttpStatus.INTERNAL_SERVER_ERROR, null, null, body(json,
				"route_misconfigured", "This route's API key settings are invalid; the gateway's operator must fix them."));
	}

	private static byte[] body(JsonMapper json, String error, String message) {
		Map<String, String> body = new LinkedHashMap<>();
		body.put("error", error);
		body.put("message", message);
		return json.writeValueAsBytes(body);
	}

	@Override
	public Mono<Void> onAuthenticationFailure(ServerWebExchange exchange, KeyAuthenticationException failure) {
		return refusalFor(failure).writeTo(exchange.getResponse());
	}

	private Refusal refusalFor(KeyAuthenticationException failure) {
		if (failure instanceof InvalidApiKeyException) {
			return this.invalid;
		}
		if (failure instanceof MissingApiKeyException) {
			return this.missing;
		}
		if (failure instanceof InsufficientScopeException scope) {
			return this.insufficientScope.computeIfAbsent(scope.required(), this::insufficientScope);
		}
		if (failure instanceof RouteMisconfiguredException) {
			return this.misconfigured;
		}
		logUnavailable((KeyAuthUnavailableException) failure);
		return this.unavailable;
	}

	private Refusal insufficientScope(List<String> required) {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("error", "insufficient_scope");
		body.put("message", "The API key lacks a scope this route requires.");
		body.put("required", required);
		return new Refusal(HttpStatus.FORBIDDEN, HttpHeaders.WWW_AUTHENTICATE,
				this.challenge + ", error=\"insufficient_scope\", scope=\"" + String.join(" ", required) + "\"",
				this.json.writeValueAsBytes(body));
	}

	private void logUnavailable(KeyAuthUnavailableException failure) {
		long now = System.nanoTime();
		if (now - this.lastUnavailableLog >= UNAVAILABLE_LOG_INTERVAL_NANOS) {
			this.lastUnavailableLog = now;
			logger.warn("API keys cannot be checked, answering 503 until the key store recovers: "
					+ failure.getCause());
		}
	}

	private record Refusal(HttpStatus status, @Nullable String headerName, @Nullable String headerValue, byte[] body) {

		Mono<Void> writeTo(ServerHttpResponse response) {
			response.setStatusCode(this.status);
			HttpHeaders headers = response.getHeaders();
			if (this.headerName != null) {
				headers.set(this.headerName, this.headerValue);
			}
			headers.setContentType(MediaType.APPLICATION_JSON);
			headers.setContentLength(this.body.length);
			headers.setCacheControl("no-store");
			return response.writeWith(Mono.just(response.bufferFactory().wrap(this.body)));
		}

	}

}
