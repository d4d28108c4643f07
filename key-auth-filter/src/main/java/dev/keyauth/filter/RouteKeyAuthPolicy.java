package dev.keyauth.filter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.keyauth.store.RateLimit;
import org.jspecify.annotations.Nullable;

import org.springframework.cloud.gateway.route.Route;
import org.springframework.util.StringUtils;

/**
 * What a route asks of key authentication, read once per route from its metadata:
 *
 * <pre>
 * metadata:
 *   keyauth:
 *     enabled: false              # public route: no key needed (identity headers still stripped)
 *     scopes: [orders:read]       # a key must carry every one of these, else 403
 *     anonymous-consumer: guest   # no key: pass as this consumer, flagged X-Anonymous-Consumer
 *     query-param: api_key        # also accept the key in this query parameter
 *     rate-limit:                 # per key, on this route, on top of the key's own limit
 *       requests-per-second: 5
 *       burst: 10
 * </pre>
 * CORS preflights need no setting here: the gateway's handler mapping answers them itself (from
 * its global or per-route CORS configuration) before any global filter runs, so they are never
 * authenticated and never forwarded.
 *
 * @param enabled whether a key is required at all
 * @param requiredScopes scopes a key must all carry
 * @param anonymousConsumer consumer to forward as when no key is sent, or {@code null}
 * @param queryParam query parameter to read keys from, or {@code null} for the global setting
 * @param rateLimit the route's per-key limit, or {@code null}
 */
public record RouteKeyAuthPolicy(boolean enabled, List<String> requiredScopes, @Nullable String anonymousConsumer,
		@Nullable String queryParam, @Nullable RateLimit rateLimit) {

	private static final org.apache.commons.logging.Log logger = org.apache.commons.logging.LogFactory
		.getLog(RouteKeyAuthPolicy.class);

	/** The metadata key under which a route configures key authentication. */
	public static final String METADATA_KEY = "keyauth";

	public static final RouteKeyAuthPolicy REQUIRED = new RouteKeyAuthPolicy(true, List.of(), null, null, null);

	public static final RouteKeyAuthPolicy DISABLED = new RouteKeyAuthPolicy(false, List.of(), null, null, null);

	public RouteKeyAuthPolicy {
		requiredScopes = List.copyOf(requiredScopes);
	}

	/**
	 * The policy declared by {@code route}. Key authentication is required unless a route opts
	 * out with an explicit {@code false}.
	 */
	public static RouteKeyAuthPolicy of(@Nullable Route route) {
		if (route == null) {
			return REQUIRED;
		}
		Map<String, Object> metadata = route.getMetadata();
		Map<?, ?> settings = (metadata.get(METADATA_KEY) instanceof Map<?, ?> nested) ? nested : flat(metadata);
		if (settings.isEmpty()) {
			return REQUIRED;
		}
		if (isFalse(settings.get("enabled"))) {
			return DISABLED;
		}
		return new RouteKeyAuthPolicy(true, strings(settings.get("scopes")),
				text(first(settings, "anonymous-consumer", "anonymousConsumer")),
				text(first(settings, "query-param", "queryParam")),
				rateLimit(first(settings, "rate-limit", "rateLimit"), route.getId()));
	}

	/** {@code keyauth.enabled: false} written as flat metadata keys. */
	private static Map<String, Object> flat(Map<String, Object> metadata) {
		Map<String, Object> settings = new TreeMap<>();
		metadata.forEach((name, value) -> {
			if (name.startsWith(METADATA_KEY + ".")) {
				settings.put(name.substring(METADATA_KEY.length() + 1), value);
			}
		});
		return settings;
	}

	private static @Nullable Object first(Map<?, ?> settings, String name, String alias) {
		Object value = settings.get(name);
		return (value != null) ? value : settings.get(alias);
	}

	// Only an explicit false disables: a typo or an unexpected value keeps the route protected.
	private static boolean isFalse(@Nullable Object value) {
		return Boolean.FALSE.equals(value) || (value instanceof String text && "false".equalsIgnoreCase(text.strip()));
	}

	private static @Nullable String text(@Nullable Object value) {
		return (value != null && StringUtils.hasText(value.toString())) ? value.toString().strip() : null;
	}

	/** A YAML list (bound as a list, or as a map keyed 0, 1, ...) or a comma-separated string. */
	static List<String> strings(@Nullable Object value) {
		List<String> result = new ArrayList<>();
		if (value instanceof Collection<?> items) {
			items.forEach((item) -> addAll(result, item));
		}
		else if (value instanceof Map<?, ?> indexed) {
			new TreeMap<>(indexed.entrySet()
				.stream()
				.collect(java.util.stream.Collectors.toMap((e) -> Integer.parseInt(e.getKey().toString()),
						Map.Entry::getValue)))
				.values()
				.forEach((item) -> addAll(result, item));
		}
		else if (value != null) {
			addAll(result, value);
		}
		return result;
	}

	private static void addAll(List<String> result, Object item) {
		for (String part : item.toString().split("[,\\s]+")) {
			if (!part.isEmpty()) {
				result.add(part);
			}
		}
	}

	private static @Nullable RateLimit rateLimit(@Nullable Object value, String routeId) {
		if (!(value instanceof Map<?, ?> settings)) {
			return null;
		}
		Object rps = first(settings, "requests-per-second", "requestsPerSecond");
		Object burst = settings.get("burst");
		try {
			int perSecond = Integer.parseInt(String.valueOf(rps).strip());
			return new RateLimit(perSecond, (burst != null) ? Integer.parseInt(burst.toString().strip()) : perSecond);
		}
		catch (IllegalArgumentException ex) {
			// Authentication itself is unaffected; the operator is told loudly, once per route.
			logger.error("Route '" + routeId + "' has an invalid keyauth.rate-limit " + settings
					+ " (needs requests-per-second > 0 and burst >= requests-per-second); it is ignored");
			return null;
		}
	}

}
