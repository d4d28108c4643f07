package dev.keyauth.admin;

import java.time.Instant;
import java.util.Set;

import dev.keyauth.store.ApiKey;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A validated partial update ({@code PATCH}): fields that are present replace the key's, fields
 * that are absent are kept, and {@code null} clears a field ({@code name}, {@code expiresAt},
 * {@code rateLimit}; {@code scopes} and {@code metadata} become empty).
 */
final class UpdateApiKeyRequest {

	static final Set<String> FIELDS = Set.of("name", "scopes", "expiresAt", "ttl", "metadata", "rateLimit");

	private final JsonNode body;

	private final Instant now;

	private final int maxScopes;

	private final JsonMapper json;

	private UpdateApiKeyRequest(JsonNode body, Instant now, int maxScopes, JsonMapper json) {
		this.body = body;
		this.now = now;
		this.maxScopes = maxScopes;
		this.json = json;
	}

	/** Validates every present field now, before anything is read or written. */
	static UpdateApiKeyRequest parse(JsonNode body, Instant now, int maxScopes, JsonMapper json) {
		AdminJson.requireObject(body, FIELDS);
		if (body.isEmpty()) {
			throw AdminRequestException.invalid("nothing to update: give at least one of "
					+ String.join(", ", FIELDS.stream().sorted().toList()));
		}
		UpdateApiKeyRequest request = new UpdateApiKeyRequest(body, now, maxScopes, json);
		request.applyTo(new ApiKey(new java.util.UUID(0, 0), "", "x", null, java.util.List.of(), java.util.Map.of(), now,
				null, null, null));
		return request;
	}

	/** The key with this update applied; the secret, id, consumer and state are never changed. */
	ApiKey applyTo(ApiKey key) {
		boolean expiryGiven = this.body.has("expiresAt") || this.body.has("ttl");
		return new ApiKey(key.id(), key.keyStart(), key.consumerId(),
				this.body.has("name") ? AdminJson.name(this.body.get("name")) : key.name(),
				this.body.has("scopes") ? AdminJson.scopes(this.body.get("scopes"), this.maxScopes) : key.scopes(),
				this.body.has("metadata") ? AdminJson.metadata(this.body.get("metadata"), this.json) : key.metadata(),
				key.createdAt(), expiryGiven ? AdminJson.expiry(this.body, this.now) : key.expiresAt(), key.revokedAt(),
				key.lastUsedAt(), key.disabledAt(),
				this.body.has("rateLimit") ? AdminJson.rateLimit(this.body.get("rateLimit")) : key.rateLimit(),
				key.rotatedFrom(), key.requestCount());
	}

}
