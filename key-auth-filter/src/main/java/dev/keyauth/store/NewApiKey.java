package dev.keyauth.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.key.KeyHash;
import org.jspecify.annotations.Nullable;

/**
 * What is written when a key is created: the hash of the key, never the key itself.
 */
public record NewApiKey(UUID id, KeyHash hash, String keyStart, String consumerId, @Nullable String name,
		List<String> scopes, Map<String, Object> metadata, Instant createdAt, @Nullable Instant expiresAt,
		@Nullable RateLimit rateLimit, @Nullable UUID rotatedFrom) {

	public NewApiKey {
		scopes = List.copyOf(scopes);
		metadata = (metadata != null) ? metadata : Map.of();
	}

	public NewApiKey(UUID id, KeyHash hash, String keyStart, String consumerId, @Nullable String name,
			List<String> scopes, Map<String, Object> metadata, Instant createdAt, @Nullable Instant expiresAt) {
		this(id, hash, keyStart, consumerId, name, scopes, metadata, createdAt, expiresAt, null, null);
	}

	ApiKey toApiKey() {
		return new ApiKey(this.id, this.keyStart, this.consumerId, this.name, this.scopes, this.metadata,
				this.createdAt, this.expiresAt, null, null, null, this.rateLimit, this.rotatedFrom, 0);
	}

}
