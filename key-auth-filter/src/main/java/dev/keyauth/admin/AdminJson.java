package dev.keyauth.admin;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.keyauth.store.ApiKey;
import dev.keyauth.store.RateLimit;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads and validates the fields of admin request bodies. Each method refuses a wrong value with
 * a message naming the field, so a request is either understood whole or refused.
 */
final class AdminJson {

	static final int MAX_NAME_LENGTH = 200;

	static final int MAX_METADATA_BYTES = 8 * 1024;

	/** The longest a key may live, whether given as expiresAt, ttl or a rotation's grace period. */
	static final Duration MAX_LIFETIME = Duration.ofDays(36_500);

	private AdminJson() {
	}

	static void requireObject(JsonNode body, Set<String> allowed) {
		if (!body.isObject()) {
			throw AdminRequestException.invalid("request body must be a JSON object");
		}
		for (Iterator<String> names = body.propertyNames().iterator(); names.hasNext();) {
			String field = names.next();
			if (!allowed.contains(field)) {
				throw AdminRequestException.invalid("unknown field '" + abbreviate(field) + "'; expected one of "
						+ String.join(", ", allowed.stream().sorted().toList()));
			}
		}
	}

	static boolean isAbsent(@Nullable JsonNode node) {
		return node == null || node.isNull();
	}

	static String consumerId(@Nullable JsonNode node) {
		if (isAbsent(node)) {
			throw AdminRequestException.invalid("consumerId is required");
		}
		if (!node.isString()) {
			throw AdminRequestException.invalid("consumerId must be a string");
		}
		return consumerId(node.stringValue());
	}

	static String consumerId(String raw) {
		String value = raw.strip();
		if (value.isEmpty()) {
			throw AdminRequestException.invalid("consumerId must not be blank");
		}
		if (value.length() > ApiKey.MAX_CONSUMER_ID_LENGTH) {
			throw AdminRequestException.invalid("consumerId must be at most " + ApiKey.MAX_CONSUMER_ID_LENGTH + " characters");
		}
		if (!ApiKey.CONSUMER_ID.matcher(value).matches()) {
			throw AdminRequestException.invalid("consumerId must be printable ASCII (it is forwarded in a header)");
		}
		return value;
	}

	static @Nullable String name(@Nullable JsonNode node) {
		if (isAbsent(node)) {
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
		if (!isWellFormedUnicode(value)) {
			throw AdminRequestException.invalid("name must be valid Unicode (it has an unpaired surrogate)");
		}
		return value.isEmpty() ? null : value;
	}

	static List<String> scopes(@Nullable JsonNode node, int maxScopes) {
		if (isAbsent(node)) {
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
			if (!ApiKey.SCOPE.matcher(value).matches()) {
				throw AdminRequestException.invalid("scope '" + abbreviate(value) + "' is not valid: 1 to 64 "
						+ "characters of A-Z a-z 0-9 . _ : / * -, starting with a letter or digit");
			}
			scopes.add(value);
		}
		return new ArrayList<>(scopes);
	}

	static @Nullable Instant expiresAt(@Nullable JsonNode node, Instant now) {
		if (isAbsent(node)) {
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
			throw AdminRequestException
				.invalid("expiresAt must be an ISO-8601 date-time with an offset, e.g. 2030-01-31T12:00:00Z");
		}
		if (!expiresAt.isAfter(now)) {
			throw AdminRequestException.invalid("expiresAt must be in the future");
		}
		// Also keeps it inside what every supported database can store.
		if (expiresAt.isAfter(now.plus(MAX_LIFETIME))) {
			throw AdminRequestException.invalid("expiresAt must be at most 100 years ahead");
		}
		return expiresAt;
	}

	/** A positive ISO-8601 duration such as {@code PT12H} or {@code P30D}. */
	static @Nullable Duration duration(String field, @Nullable JsonNode node, boolean allowZero) {
		if (isAbsent(node)) {
			return null;
		}
		if (!node.isString()) {
			throw AdminRequestException.invalid(field + " must be an ISO-8601 duration string, e.g. PT24H or P30D");
		}
		Duration duration;
		try {
			duration = Duration.parse(node.stringValue());
		}
		catch (DateTimeException ex) {
			throw AdminRequestException.invalid(field + " must be an ISO-8601 duration, e.g. PT24H or P30D");
		}
		if (duration.isNegative() || (!allowZero && duration.isZero())) {
			throw AdminRequestException.invalid(field + " must be " + (allowZero ? "zero or positive" : "positive"));
		}
		if (duration.compareTo(MAX_LIFETIME) > 0) {
			throw AdminRequestException.invalid(field + " must be at most 100 years");
		}
		return duration;
	}

	/** {@code expiresAt} or {@code ttl} (not both), as an expiry instant or {@code null}. */
	static @Nullable Instant expiry(JsonNode body, Instant now) {
		JsonNode expiresAt = body.get("expiresAt");
		JsonNode ttl = body.get("ttl");
		if (!isAbsent(expiresAt) && !isAbsent(ttl)) {
			throw AdminRequestException.invalid("give expiresAt or ttl, not both");
		}
		Duration duration = duration("ttl", ttl, false);
		return (duration != null) ? now.plus(duration) : expiresAt(expiresAt, now);
	}

	static @Nullable RateLimit rateLimit(@Nullable JsonNode node) {
		if (isAbsent(node)) {
			return null;
		}
		if (!node.isObject()) {
			throw AdminRequestException
				.invalid("rateLimit must be an object like {\"requestsPerSecond\": 10, \"burst\": 20}");
		}
		requireObject(node, Set.of("requestsPerSecond", "burst"));
		int rps = positiveInt("rateLimit.requestsPerSecond", node.get("requestsPerSecond"), RateLimit.MAX_REQUESTS_PER_SECOND);
		JsonNode burstNode = node.get("burst");
		int burst = isAbsent(burstNode) ? rps : positiveInt("rateLimit.burst", burstNode, RateLimit.MAX_BURST);
		if (burst < rps) {
			throw AdminRequestException.invalid("rateLimit.burst must be at least rateLimit.requestsPerSecond");
		}
		return new RateLimit(rps, burst);
	}

	private static int positiveInt(String field, @Nullable JsonNode node, int max) {
		if (isAbsent(node) || !node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < 1
				|| node.intValue() > max) {
			throw AdminRequestException.invalid(field + " must be an integer from 1 to " + max);
		}
		return node.intValue();
	}

	@SuppressWarnings("unchecked")
	static Map<String, Object> metadata(@Nullable JsonNode node, JsonMapper json) {
		if (isAbsent(node)) {
			return Map.of();
		}
		if (!node.isObject()) {
			throw AdminRequestException.invalid("metadata must be a JSON object");
		}
		if (json.writeValueAsBytes(node).length > MAX_METADATA_BYTES) {
			throw AdminRequestException.invalid("metadata must be at most " + MAX_METADATA_BYTES + " bytes of JSON");
		}
		requireStorableText(node);
		return json.convertValue(node, Map.class);
	}

	// PostgreSQL's jsonb refuses U+0000 and text that is not valid Unicode; refuse them here, as
	// the 400 they are, rather than as a failed write.
	private static void requireStorableText(JsonNode node) {
		if (node.isString()) {
			requireStorableText(node.stringValue());
		}
		for (Map.Entry<String, JsonNode> field : node.properties()) {
			requireStorableText(field.getKey());
			requireStorableText(field.getValue());
		}
		if (node.isArray()) {
			for (JsonNode element : node) {
				requireStorableText(element);
			}
		}
	}

	private static void requireStorableText(String text) {
		if (text.indexOf(0) >= 0) {
			throw AdminRequestException.invalid("metadata must not contain the character U+0000");
		}
		if (!isWellFormedUnicode(text)) {
			throw AdminRequestException.invalid("metadata must be valid Unicode (it has an unpaired surrogate)");
		}
	}

	private static boolean isWellFormedUnicode(String text) {
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			if (Character.isHighSurrogate(c)) {
				if (i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
					return false;
				}
				i++;
			}
			else if (Character.isLowSurrogate(c)) {
				return false;
			}
		}
		return true;
	}

	static String abbreviate(String value) {
		String printable = value.replaceAll("\\p{Cntrl}", "?");
		return (printable.length() > 40) ? printable.substring(0, 40) + "..." : printable;
	}

}
