package dev.keyauth.admin;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A validated request to create a key. Built only through {@link #parse}, which refuses anything
 * it does not understand with a message naming the field, so nothing half-valid reaches the
 * store.
 */
public record CreateApiKeyRequest(String consumerId, @Nullable String name, List<String> scopes,
		@Nullable Instant expiresAt, Map<String, Object> metadata) {

	static final Set<String> FIELDS = Set.of("consumerId", "name", "scopes", "expiresAt", "metadata");

	static final int MAX_CONSUMER_ID_LENGTH = 128;

	static final int MAX_NAME_LENGTH = 200;

	static final int MAX_METADATA_BYTES = 8 * 1024;

	/** Scopes travel comma-separated in a header: no commas, spaces or quotes inside one. */
	static final Pattern SCOPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/*-]{0,63}");

	/** Printable ASCII: the consumer id is forwarded as a header value. */
	static final Pattern CONSUMER_ID = Pattern.compile("[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?");

	static CreateApiKeyRequest parse(JsonNode body, Instant now, int maxScopes, JsonMapper json) {
		if (!body.isObject()) {
			throw AdminRequestException.invalid("request body must be a JSON object");
		}
		rejectUnknownFields(body);
		return new CreateApiKeyRequest(consumerId(body.get("consumerId")), name(body.get("name")),
				scopes(body.get("scopes"), maxScopes), expiresAt(body.get("expiresAt"), now),
				metadata(body.get("metadata"), json));
	}

	private static void rejectUnknownFields(JsonNode body) {
		for (Iterator<String> names = body.propertyNames().iterator(); names.hasNext();) {
			String field = names.next();
			if (!FIELDS.contains(field)) {
				throw AdminRequestException.invalid("unknown field '" + abbreviate(field) + "'; expected "
						+ "consumerId, name, scopes, expiresAt, metadata");
			}
		}
	}

	private static String consumerId(@Nullable JsonNode node) {
		if (node == null || node.isNull()) {
			throw AdminRequestException.invalid("consumerId is required");
		}
		if (!node.isString()) {
			throw AdminRequestException.invalid("consumerId must be a string");
		}
		String value = node.stringValue().strip();
		if (value.isEmpty()) {
			throw AdminRequestException.invalid("consumerId must not be blank");
		}
		if (value.length() > MAX_CONSUMER_ID_LENGTH) {
			throw AdminRequestException.invalid("consumerId must be at most " + MAX_CONSUMER_ID_LENGTH + " characters");
		}
		if (!CONSUMER_ID.matcher(value).matches()) {
			throw AdminRequestException.invalid("consumerId must be printable ASCII (it is forwarded in a header)");
		}
		return value;
	}

	private static @Nullable String name(@Nullable JsonNode node) {
		if (node == null || node.isNull()) {
			return null;
		}
		if (!node.isString()) {
			throw AdminRequestException.invalid("name must be a string");
		}
		String value = node.stringValue().strip();
		if (value.length() > MAX_NAME_LENGTH) {
			throw AdminRequestException.invalid("name must be at most " + MAX_NAME_LENGTH + " characters");
		}
		if (value.chars().anyMatch(Character::isISOControl)) {
			throw AdminRequestException.invalid("name must not contain control characters");
		}
		return value.isEmpty() ? null : value;
	}

	private static List<String> scopes(@Nullable JsonNode node, int maxScopes) {
		if (node == null || node.isNull()) {
			return List.of();
		}
		if (!node.isArray()) {
			throw AdminRequestException.invalid("scopes must be an array of strings");
		}
		if (node.size() > maxScopes) {
			throw AdminRequestException.invalid("at most " + maxScopes + " scopes are allowed, got " + node.size());
		}
		Set<String> scopes = new LinkedHashSet<>();
		for (JsonNode scope : node) {
			if (!scope.isString()) {
				throw AdminRequestException.invalid("scopes must be an array of strings");
			}
			String value = scope.stringValue();
			if (!SCOPE.matcher(value).matches()) {
				throw AdminRequestException.invalid("scope '" + abbreviate(value) + "' is not valid: 1 to 64 "
						+ "characters of A-Z a-z 0-9 . _ : / * -, starting with a letter or digit");
			}
			scopes.add(value);
		}
		return new ArrayList<>(scopes);
	}

	private static @Nullable Instant expiresAt(@Nullable JsonNode node, Instant now) {
		if (node == null || node.isNull()) {
			return null;
		}
		if (!node.isString()) {
			throw AdminRequestException.invalid("expiresAt must be an ISO-8601 date-time string");
		}
		Instant expiresAt;
		try {
			expiresAt = OffsetDateTime.parse(node.stringValue()).toInstant();
		}
		catch (DateTimeException ex) {
			throw AdminRequestException.invalid(
					"expiresAt must be an ISO-8601 date-time with an offset, e.g. 2030-01-31T12:00:00Z");
		}
		if (!expiresAt.isAfter(now)) {
			throw AdminRequestException.invalid("expiresAt must be in the future");
		}
		return expiresAt;
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> metadata(@Nullable JsonNode node, JsonMapper json) {
		if (node == null || node.isNull()) {
			return Map.of();
		}
		if (!node.isObject()) {
			throw AdminRequestException.invalid("metadata must be a JSON object");
		}
		if (json.writeValueAsBytes(node).length > MAX_METADATA_BYTES) {
			throw AdminRequestException.invalid("metadata must be at most " + MAX_METADATA_BYTES + " bytes of JSON");
		}
		return json.convertValue(node, Map.class);
	}

	private static String abbreviate(String value) {
		String printable = value.replaceAll("\\p{Cntrl}", "?");
		return (printable.length() > 40) ? printable.substring(0, 40) + "..." : printable;
	}

}
