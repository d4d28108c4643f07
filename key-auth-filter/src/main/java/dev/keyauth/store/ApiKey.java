package dev.keyauth.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

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
 * @param disabledAt when the key was suspended (reversibly), or {@code null}
 * @param rateLimit the key's own rate limit, or {@code null} for the configured default
 * @param rotatedFrom the key this one replaced by rotation, or {@code null}
 * @param requestCount authenticated requests recorded so far
 */
public record ApiKey(UUID id, String keyStart, String consumerId, @Nullable String name, List<String> scopes,
		Map<String, Object> metadata, Instant createdAt, @Nullable Instant expiresAt, @Nullable Instant revokedAt,
		@Nullable Instant lastUsedAt, @Nullable Instant disabledAt, @Nullable RateLimit rateLimit,
		@Nullable UUID rotatedFrom, long requestCount) {

	/**
	 * What a scope may be, on a key and in a route's required scopes alike: scopes travel
	 * comma-separated in a header, so no commas, spaces or quotes inside one.
	 */
	public static final Pattern SCOPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/*-]{0,63}");

	/** What a consumer id may be: printable ASCII, as it is forwarded as a header value. */
	public static final Pattern CONSUMER_ID = Pattern.compile("[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?");

	public static final int MAX_CONSUMER_ID_LENGTH = 128;

	public ApiKey {
		scopes = List.copyOf(scopes);
		metadata = (metadata != null) ? metadata : Map.of();
	}

	/** A key as first created: not revoked, disabled, rotated or used. */
	public ApiKey(UUID id, String keyStart, String consumerId, @Nullable String name, List<String> scopes,
			Map<String, Object> metadata, Instant createdAt, @Nullable Instant expiresAt, @Nullable Instant revokedAt,
			@Nullable Instant lastUsedAt) {
		this(id, keyStart, consumerId, name, scopes, metadata, createdAt, expiresAt, revokedAt, lastUsedAt, null, null,
				null, 0);
	}

	/**
	 * Neither revoked, disabled nor expired at {@code now}. Expiry is exclusive: at
	 * {@code expiresAt} the key is dead.
	 */
	public boolean isActiveAt(Instant now) {
		return this.revokedAt == null && this.disabledAt == null
				&& (this.expiresAt == null || now.isBefore(this.expiresAt));
	}

	/** {@code active}, {@code revoked}, {@code disabled} or {@code expired}. */
	public String statusAt(Instant now) {
		if (this.revokedAt != null) {
			return "revoked";
		}
		if (this.disabledAt != null) {
			return "disabled";
		}
		return isActiveAt(now) ? "active" : "expired";
	}

}
