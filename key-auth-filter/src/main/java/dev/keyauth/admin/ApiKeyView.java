package dev.keyauth.admin;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.keyauth.admin.ApiKeyAdminService.IssuedApiKey;
import dev.keyauth.store.ApiKey;
import org.jspecify.annotations.Nullable;

/**
 * JSON shapes of the admin API. Built as ordered maps so the field order is stable and the raw
 * key appears in exactly one of them, the creation response.
 */
final class ApiKeyView {

	private ApiKeyView() {
	}

	/** {@code {"id","key","keyStart","consumerId","name","scopes","metadata","rateLimit","createdAt","expiresAt"}} */
	static Map<String, Object> created(IssuedApiKey issued) {
		ApiKey key = issued.apiKey();
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("id", key.id().toString());
		view.put("key", issued.key());
		settings(view, key);
		view.put("createdAt", text(key.createdAt()));
		view.put("expiresAt", text(key.expiresAt()));
		return view;
	}

	/** A stored key: never the key, never its hash. */
	static Map<String, Object> of(ApiKey key, Instant now) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("id", key.id().toString());
		settings(view, key);
		view.put("status", key.statusAt(now));
		view.put("createdAt", text(key.createdAt()));
		view.put("expiresAt", text(key.expiresAt()));
		view.put("disabledAt", text(key.disabledAt()));
		view.put("revokedAt", text(key.revokedAt()));
		view.put("rotatedFrom", (key.rotatedFrom() != null) ? key.rotatedFrom().toString() : null);
		view.put("requestCount", key.requestCount());
		view.put("lastUsedAt", text(key.lastUsedAt()));
		return view;
	}

	/** What every view shows of a key, in this order. */
	private static void settings(Map<String, Object> view, ApiKey key) {
		view.put("keyStart", key.keyStart());
		view.put("consumerId", key.consumerId());
		view.put("name", key.name());
		view.put("scopes", key.scopes());
		view.put("metadata", key.metadata());
		view.put("rateLimit", rateLimit(key));
	}

	static Map<String, Object> error(String error, String message) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("error", error);
		view.put("message", message);
		return view;
	}

	private static @Nullable Map<String, Object> rateLimit(ApiKey key) {
		if (key.rateLimit() == null) {
			return null;
		}
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("requestsPerSecond", key.rateLimit().requestsPerSecond());
		view.put("burst", key.rateLimit().burst());
		return view;
	}

	private static @Nullable String text(@Nullable Instant instant) {
		return (instant != null) ? instant.toString() : null;
	}

}
