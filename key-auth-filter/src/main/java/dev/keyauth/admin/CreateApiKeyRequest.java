package dev.keyauth.admin;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.keyauth.store.RateLimit;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A validated request to create a key. Built only through {@link #parse}, which refuses anything
 * it does not understand with a message naming the field, so nothing half-valid reaches the
 * store.
 */
public record CreateApiKeyRequest(String consumerId, @Nullable String name, List<String> scopes,
		@Nullable Instant expiresAt, Map<String, Object> metadata, @Nullable RateLimit rateLimit) {

	static final Set<String> FIELDS = Set.of("consumerId", "name", "scopes", "expiresAt", "ttl", "metadata",
			"rateLimit");

	static CreateApiKeyRequest parse(JsonNode body, Instant now, int maxScopes, JsonMapper json) {
		AdminJson.requireObject(body, FIELDS);
		return new CreateApiKeyRequest(AdminJson.consumerId(body.get("consumerId")), AdminJson.name(body.get("name")),
				AdminJson.scopes(body.get("scopes"), maxScopes), AdminJson.expiry(body, now),
				AdminJson.metadata(body.get("metadata"), json), AdminJson.rateLimit(body.get("rateLimit")));
	}

}
