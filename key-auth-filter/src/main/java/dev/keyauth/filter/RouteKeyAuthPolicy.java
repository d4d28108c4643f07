package dev.keyauth.filter;

import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.cloud.gateway.route.Route;

/**
 * What a route asks of key authentication, read from its metadata:
 *
 * <pre>
 * metadata:
 *   keyauth:
 *     enabled: false   # a public route: no key needed (identity headers are still stripped)
 * </pre>
 */
public record RouteKeyAuthPolicy(boolean enabled) {

	/** The metadata key under which a route configures key authentication. */
	public static final String METADATA_KEY = "keyauth";

	public static final RouteKeyAuthPolicy REQUIRED = new RouteKeyAuthPolicy(true);

	public static final RouteKeyAuthPolicy DISABLED = new RouteKeyAuthPolicy(false);

	/** The policy declared by {@code route}; key authentication is required unless a route opts out. */
	public static RouteKeyAuthPolicy of(@Nullable Route route) {
		if (route == null) {
			return REQUIRED;
		}
		Map<String, Object> metadata = route.getMetadata();
		Object enabled = (metadata.get(METADATA_KEY) instanceof Map<?, ?> nested) ? nested.get("enabled")
				: metadata.get(METADATA_KEY + ".enabled");
		return isFalse(enabled) ? DISABLED : REQUIRED;
	}

	// Only an explicit false disables: a typo or an unexpected value keeps the route protected.
	private static boolean isFalse(@Nullable Object value) {
		return Boolean.FALSE.equals(value) || (value instanceof String text && "false".equalsIgnoreCase(text.strip()));
	}

}
