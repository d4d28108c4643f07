package dev.keyauth.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

/**
 * A stored API key as the gateway and the admin endpoint see it. It holds no secret: neither the
 * key nor its hash, so it can be logged, cached, serialised and put on the exchange freely.
 *
 * @param id stable identifier used for management
 * @param keyStart the prefix and first body characters, for humans
 * @param consumerId who the key belongs to; forwarded downstream
 * @param name optional label
 * @param scopes granted scopes, in the order given at creation
 * @param metadata free-form JSON object
 * @param createdAt creation time
 * @param expiresAt when the key stops working, or {@code null} for never
 * @param revokedAt when the key was revoked, or {@code null}
 * @param lastUsedAt last successful use as far as recorded, or {@code null}
 */
public record ApiKey(UUID id, String keyStart, String consumerId, @Nullable String name, List<String> scopes,
		Map<String, Object> metadata, Instant createdAt, @Nullable Instant expiresAt, @Nullable Instant revokedAt,
		@Nullable Instant lastUsedAt) {

	public ApiKey {
		scopes = List.copyOf(scopes);
		metadata = (metadata != null) ? metadata : Map.of();
	}

	/** Neither revoked nor expired at {@code now}. Expiry is exclusive: at {@code expiresAt} the key is dead. */
	public boolean isActiveAt(Instant now) {
		return this.revokedAt == null && (this.expiresAt == null || now.isBefore(this.expiresAt));
	}

}
