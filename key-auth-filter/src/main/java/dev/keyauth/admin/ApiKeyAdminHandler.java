package dev.keyauth.admin;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import dev.keyauth.store.ApiKey;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyExtractors;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * The admin API's handlers. Every refusal is a JSON error naming the problem; a request is either
 * applied whole or not at all.
 */
public class ApiKeyAdminHandler {

	/** A create request is a few hundred bytes; anything this large is not one. */
	static final int MAX_BODY_BYTES = 64 * 1024;

	static final int DEFAULT_PAGE_SIZE = 50;

	private final ApiKeyAdminService service;

	private final JsonMapper json;

	private final int maxScopes;

	private final int maxPageSize;

	private final Duration defaultGrace;

	static final java.util.Set<String> ROTATE_FIELDS = java.util.Set.of("gracePeriod", "expiresAt", "ttl");

	static final java.util.Set<String> IDENTIFY_FIELDS = java.util.Set.of("key");

	public ApiKeyAdminHandler(ApiKeyAdminService service, JsonMapper json, int maxScopes, int maxPageSize,
			Duration defaultGrace) {
		this.service = service;
		this.json = json;
		this.maxScopes = maxScopes;
		this.maxPageSize = maxPageSize;
		this.defaultGrace = defaultGrace;
	}

	/** {@code POST /apikeys}: 201 with the key, shown this once. */
	public Mono<ServerResponse> create(ServerRequest request) {
		return requireJson(request).then(readBody(request))
			.map((body) -> CreateApiKeyRequest.parse(body, now(), this.maxScopes, this.json))
			.flatMap(this.service::create)
			.doOnNext((issued) -> AdminAuditLog.changed("created", issued.apiKey(), request))
			.flatMap((issued) -> ServerResponse.created(URI.create(request.path() + "/" + issued.apiKey().id()))
				.contentType(MediaType.APPLICATION_JSON)
				.header(HttpHeaders.CACHE_CONTROL, "no-store")
				.bodyValue(ApiKeyView.created(issued)))
			.onErrorResume(AdminResponses::error);
	}

	/** {@code PATCH /apikeys/{id}}: change name, scopes, metadata, expiry or rate limit, not the secret. */
	public Mono<ServerResponse> update(ServerRequest request) {
		return Mono.fromCallable(() -> id(request))
			.flatMap((id) -> requireJson(request).then(readBody(request))
				.map((body) -> UpdateApiKeyRequest.parse(body, now(), this.maxScopes, this.json))
				.flatMap((update) -> this.service.update(id, update)))
			.doOnNext((key) -> AdminAuditLog.changed("updated", key, request))
			.flatMap((key) -> ok(ApiKeyView.of(key, now())))
			.onErrorResume(AdminResponses::error);
	}

	/** {@code POST /apikeys/{id}/disable}: suspend, reversibly. */
	public Mono<ServerResponse> disable(ServerRequest request) {
		return Mono.fromCallable(() -> id(request))
			.flatMap(this.service::disable)
			.doOnNext((key) -> AdminAuditLog.changed("disabled", key, request))
			.flatMap((key) -> ok(ApiKeyView.of(key, now())))
			.onErrorResume(AdminResponses::error);
	}

	/** {@code POST /apikeys/{id}/enable}. */
	public Mono<ServerResponse> enable(ServerRequest request) {
		return Mono.fromCallable(() -> id(request))
			.flatMap(this.service::enable)
			.doOnNext((key) -> AdminAuditLog.changed("enabled", key, request))
			.flatMap((key) -> ok(ApiKeyView.of(key, now())))
			.onErrorResume(AdminResponses::error);
	}

	/**
	 * {@code POST /apikeys/{id}/rotate} with an optional body
	 * {@code {"gracePeriod": "PT24H", "expiresAt" | "ttl"}}: 201 with the new key, shown once;
	 * the old key works until the grace period ends.
	 */
	public Mono<ServerResponse> rotate(ServerRequest request) {
		return Mono.fromCallable(() -> id(request))
			.flatMap((id) -> optionalBody(request).flatMap((body) -> {
				AdminJson.requireObject(body, ROTATE_FIELDS);
				Duration grace = AdminJson.duration("gracePeriod", body.get("gracePeriod"), true);
				return this.service.rotate(id, (grace != null) ? grace : this.defaultGrace,
						AdminJson.expiry(body, now()));
			}))
			.doOnNext((rotation) -> AdminAuditLog.rotated(rotation.previous(), rotation.issued().apiKey(), request))
			.flatMap((rotation) -> {
				Map<String, Object> view = ApiKeyView.created(rotation.issued());
				view.put("rotatedFrom", rotation.previous().id().toString());
				view.put("previousKeyExpiresAt", String.valueOf(rotation.previous().expiresAt()));
				return ServerResponse
					.created(URI.create(request.path().replaceFirst("/[^/]+/rotate$", "/")
							+ rotation.issued().apiKey().id()))
					.contentType(MediaType.APPLICATION_JSON)
					.header(HttpHeaders.CACHE_CONTROL, "no-store")
					.bodyValue(view);
			})
			.onErrorResume(AdminResponses::error);
	}

	/** {@code DELETE /apikeys?consumerId=}: revoke every key of a consumer. */
	public Mono<ServerResponse> revokeAll(ServerRequest request) {
		return Mono.fromCallable(() -> {
			String consumerId = consumerIdParam(request);
			if (consumerId == null) {
				throw AdminRequestException.invalid("consumerId is required to revoke a consumer's keys");
			}
			return consumerId;
		}).flatMap((consumerId) -> this.service.revokeAll(consumerId).flatMap((count) -> {
			AdminAuditLog.revokedAll(consumerId, count, request);
			Map<String, Object> body = new LinkedHashMap<>();
			body.put("consumerId", consumerId);
			body.put("revoked", count);
			return ok(body);
		})).onErrorResume(AdminResponses::error);
	}

	/** {@code GET /apikeys?consumerId=&page=&size=}: newest first. */
	public Mono<ServerResponse> list(ServerRequest request) {
		return Mono.fromCallable(() -> new PageRequest(consumerIdParam(request), intParam(request, "page", 0, 0,
				Integer.MAX_VALUE), intParam(request, "size", DEFAULT_PAGE_SIZE, 1, this.maxPageSize)))
			.flatMap((page) -> this.service.list(page.consumerId(), (long) page.page() * page.size(), page.size() + 1)
				.collectList()
				.flatMap((keys) -> ok(page(keys, page))))
			.onErrorResume(AdminResponses::error);
	}

	/**
	 * {@code POST /apikeys/identify} {@code {"key": "..."}}: which key a raw key is, for one found
	 * where it should not be. The key travels in the body, never in the URL, which access logs
	 * keep; the answer is the key's view, never the key.
	 */
	public Mono<ServerResponse> identify(ServerRequest request) {
		return requireJson(request).then(readBody(request, false))
			.flatMap((body) -> {
				AdminJson.requireObject(body, IDENTIFY_FIELDS);
				JsonNode key = body.get("key");
				if (AdminJson.isAbsent(key)) {
					throw AdminRequestException.invalid("key is required");
				}
				if (!key.isString()) {
					throw AdminRequestException.invalid("key must be a string");
				}
				return this.service.identify(key.stringValue().strip());
			})
			.switchIfEmpty(Mono.error(() -> new AdminRequestException(HttpStatus.NOT_FOUND, "not_found",
					"no API key matches this key")))
			.flatMap((key) -> ok(ApiKeyView.of(key, now())))
			.onErrorResume(AdminResponses::error);
	}

	/** {@code GET /apikeys/{id}}. */
	public Mono<ServerResponse> get(ServerRequest request) {
		return Mono.fromCallable(() -> id(request))
			.flatMap((id) -> this.service.find(id).switchIfEmpty(notFound(id)))
			.flatMap((key) -> ok(ApiKeyView.of(key, now())))
			.onErrorResume(AdminResponses::error);
	}

	/** {@code DELETE /apikeys/{id}}: revoke; repeating it is harmless and answers the same. */
	public Mono<ServerResponse> revoke(ServerRequest request) {
		return Mono.fromCallable(() -> id(request))
			.flatMap((id) -> this.service.revoke(id).switchIfEmpty(notFound(id)))
			.doOnNext((key) -> AdminAuditLog.changed("revoked", key, request))
			.flatMap((key) -> ok(ApiKeyView.of(key, now())))
			.onErrorResume(AdminResponses::error);
	}

	private Map<String, Object> page(List<ApiKey> keys, PageRequest page) {
		boolean hasMore = keys.size() > page.size();
		Instant now = now();
		List<Map<String, Object>> items = keys.stream().limit(page.size()).map((key) -> ApiKeyView.of(key, now)).toList();
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("items", items);
		body.put("page", page.page());
		body.put("size", page.size());
		body.put("hasMore", hasMore);
		return body;
	}

	private static Mono<Void> requireJson(ServerRequest request) {
		Optional<MediaType> contentType = request.headers().contentType();
		if (contentType.isPresent() && MediaType.APPLICATION_JSON.isCompatibleWith(contentType.get())) {
			return Mono.empty();
		}
		return Mono.error(new AdminRequestException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
				"send the request body as Content-Type: application/json"));
	}

	private Mono<JsonNode> readBody(ServerRequest request) {
		return readBody(request, true);
	}

	/**
	 * @param quoteParseErrors whether a parse error quotes the parser's message, which names the
	 * offending token: not for a body that holds a raw key, which the answer must never contain
	 */
	private Mono<JsonNode> readBody(ServerRequest request, boolean quoteParseErrors) {
		return DataBufferUtils.join(request.body(BodyExtractors.toDataBuffers()), MAX_BODY_BYTES)
			.onErrorMap(DataBufferLimitException.class, (ex) -> new AdminRequestException(HttpStatus.CONTENT_TOO_LARGE,
					"request_too_large", "the request body must be at most " + MAX_BODY_BYTES + " bytes"))
			.map((buffer) -> {
				try (var input = buffer.asInputStream(true)) {
					return this.json.readTree(input);
				}
				catch (JacksonException ex) {
					throw AdminRequestException.invalid("request body is not valid JSON"
							+ (quoteParseErrors ? ": " + parseProblem(ex) : ""));
				}
				catch (java.io.IOException ex) {
					throw AdminRequestException.invalid("request body could not be read");
				}
			})
			.switchIfEmpty(Mono.error(() -> AdminRequestException.invalid("a JSON request body is required")));
	}

	/**
	 * The parser's own words, without the source description Jackson embeds in some of them
	 * ("start marker at [Source: REDACTED …]"), which says nothing to a caller, and with the line
	 * and column where the problem is, which does.
	 */
	static String parseProblem(JacksonException ex) {
		String problem = ex.getOriginalMessage();
		int source = problem.indexOf(" (start marker at [Source:");
		if (source < 0) {
			source = problem.indexOf("[Source:");
		}
		if (source >= 0) {
			problem = problem.substring(0, source).stripTrailing();
		}
		TokenStreamLocation at = ex.getLocation();
		if (at != null && at.getLineNr() > 0) {
			problem += " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
		}
		return problem;
	}

	/** The JSON body, or an empty object when the request has none. */
	private Mono<JsonNode> optionalBody(ServerRequest request) {
		if (request.headers().contentLength().orElse(-1) == 0
				|| (request.headers().contentType().isEmpty() && request.headers().contentLength().isEmpty())) {
			return Mono.just(this.json.createObjectNode());
		}
		return requireJson(request).then(readBody(request));
	}

	/**
	 * The {@code consumerId} query parameter, held to the rules of a stored one: a value no key
	 * can have is a 400 naming the rule, not a query (PostgreSQL refuses a NUL in text, which
	 * would otherwise surface as a 503).
	 */
	private static @Nullable String consumerIdParam(ServerRequest request) {
		List<String> values = request.queryParams().get("consumerId");
		if (values == null || values.isEmpty()) {
			return null;
		}
		if (values.size() > 1) {
			throw AdminRequestException.invalid("consumerId may be given once");
		}
		// "?consumerId" with no '=' arrives as null: no filter, like "?consumerId=".
		String value = (values.get(0) != null) ? values.get(0).strip() : "";
		return value.isEmpty() ? null : AdminJson.consumerId(value);
	}

	private static int intParam(ServerRequest request, String name, int defaultValue, int min, int max) {
		Optional<String> value = request.queryParam(name);
		if (value.isEmpty() || value.get().isBlank()) {
			return defaultValue;
		}
		try {
			int parsed = Integer.parseInt(value.get().strip());
			if (parsed >= min && parsed <= max) {
				return parsed;
			}
		}
		catch (NumberFormatException ex) {
			// reported below, with the range
		}
		throw AdminRequestException.invalid(name + " must be an integer from " + min + " to " + max);
	}

	private static UUID id(ServerRequest request) {
		String id = request.pathVariable("id");
		try {
			UUID uuid = UUID.fromString(id);
			// UUID.fromString accepts non-canonical forms such as "1-1-1-1-1"; ids are canonical.
			if (uuid.toString().equalsIgnoreCase(id)) {
				return uuid;
			}
		}
		catch (IllegalArgumentException ex) {
			// reported below
		}
		throw AdminRequestException.invalid("id must be a UUID");
	}

	private static <T> Mono<T> notFound(UUID id) {
		return Mono.error(() -> AdminRequestException.notFound(id.toString()));
	}

	private static Mono<ServerResponse> ok(Object body) {
		return ServerResponse.ok()
			.contentType(MediaType.APPLICATION_JSON)
			.header(HttpHeaders.CACHE_CONTROL, "no-store")
			.bodyValue(body);
	}

	private Instant now() {
		return this.service.now();
	}

	private record PageRequest(@Nullable String consumerId, int page, int size) {
	}

}
