package dev.keyauth.filter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.keyauth.store.ApiKey;
import dev.keyauth.store.RateLimit;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.cloud.gateway.route.Route;

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
 *     rate-limit:                 # per key on this route, on top of the key's own limit; keyless
 *       requests-per-second: 5    # (anonymous) requests share one bucket
 *       burst: 10
 * </pre>
 * Settings that cannot be understood (an unknown name such as {@code scope}, a value of the wrong
 * kind, a scope no key could carry) make the route <em>misconfigured</em>: the route's id and the
 * problem are logged as an error, and every request on it is refused until the route is fixed.
 * Ignoring a misspelt {@code scopes} would let any key through where the operator meant to
 * require a scope; refusing fails closed, and the log says why.
 * <p>
 * CORS preflights need no setting here: the gateway's handler mapping answers them itself (from
 * its global or per-route CORS configuration) before any global filter runs, so they are never
 * authenticated and never forwarded.
 *
 * @param enabled whether a key is required at all
 * @param requiredScopes scopes a key must all carry
 * @param anonymousConsumer consumer to forward as when no key is sent, or {@code null}
 * @param queryParam query parameter to read keys from, or {@code null} for the global setting
 * @param rateLimit the route's per-key limit, or {@code null}
 * @param misconfiguration what is wrong with the route's settings, or {@code null} when they are
 * understood; a misconfigured route refuses every request
 */
public record RouteKeyAuthPolicy(boolean enabled, List<String> requiredScopes, @Nullable String anonymousConsumer,
		@Nullable String queryParam, @Nullable RateLimit rateLimit, @Nullable String misconfiguration) {

	private static final Log logger = LogFactory.getLog(RouteKeyAuthPolicy.class);

	/** The metadata key under which a route configures key authentication. */
	public static final String METADATA_KEY = "keyauth";

	public static final RouteKeyAuthPolicy REQUIRED = new RouteKeyAuthPolicy(true, List.of(), null, null, null);

	public static final RouteKeyAuthPolicy DISABLED = new RouteKeyAuthPolicy(false, List.of(), null, null, null);

	/** Each setting's name as documented, then the camel-case alias Spring's binding also accepts. */
	private static final Set<String> SETTINGS = Set.of("enabled", "scopes", "anonymous-consumer", "anonymousConsumer",
			"query-param", "queryParam", "rate-limit", "rateLimit");

	private static final Set<String> RATE_LIMIT_SETTINGS = Set.of("requests-per-second", "requestsPerSecond", "burst");

	public RouteKeyAuthPolicy {
		requiredScopes = List.copyOf(requiredScopes);
	}

	/** A policy whose settings were understood. */
	public RouteKeyAuthPolicy(boolean enabled, List<String> requiredScopes, @Nullable String anonymousConsumer,
			@Nullable String queryParam, @Nullable RateLimit rateLimit) {
		this(enabled, requiredScopes, anonymousConsumer, queryParam, rateLimit, null);
	}

	/**
	 * The policy declared by {@code route}. Key authentication is required unless a route opts
	 * out with an explicit {@code false}; settings that cannot be understood give a misconfigured
	 * policy (and an error in the log), never a more permissive one.
	 */
	public static RouteKeyAuthPolicy of(@Nullable Route route) {
		if (route == null) {
			return REQUIRED;
		}
		try {
			return parse(route.getMetadata());
		}
		catch (IllegalArgumentException ex) {
			String problem = "route '" + route.getId() + "': " + ex.getMessage();
			logger.error("Invalid key-auth settings in the metadata of " + problem
					+ "; every request on this route is refused until they are fixed");
			return new RouteKeyAuthPolicy(true, List.of(), null, null, null, problem);
		}
	}

	private static RouteKeyAuthPolicy parse(Map<String, Object> metadata) {
		Object nested = metadata.get(METADATA_KEY);
		if (nested != null && !(nested instanceof Map<?, ?>)) {
			throw new IllegalArgumentException(METADATA_KEY + " must hold settings such as 'enabled: false' or "
					+ "'scopes: [...]', not the value '" + nested + "'");
		}
		Map<?, ?> settings = (nested != null) ? (Map<?, ?>) nested : flat(metadata);
		if (settings.isEmpty()) {
			return REQUIRED;
		}
		requireKnown(settings, SETTINGS, METADATA_KEY);
		if (!enabled(settings.get("enabled"))) {
			return DISABLED;
		}
		return new RouteKeyAuthPolicy(true, scopes(settings.get("scopes")),
				anonymousConsumer(first(settings, "anonymous-consumer", "anonymousConsumer")),
				queryParam(first(settings, "query-param", "queryParam")),
				rateLimit(first(settings, "rate-limit", "rateLimit")));
	}

	/**
	 * {@code keyauth.enabled: false} written as flat metadata keys (as the Java route DSL's
	 * {@code metadata(name, value)} writes them); {@code keyauth.rate-limit.burst} and the like
	 * are gathered into their own map.
	 */
	private static Map<String, Object> flat(Map<String, Object> metadata) {
		Map<String, Object> settings = new TreeMap<>();
		metadata.forEach((name, value) -> {
			if (!name.startsWith(METADATA_KEY + ".")) {
				return;
			}
			String setting = name.substring(METADATA_KEY.length() + 1);
			int dot = setting.indexOf('.');
			if (dot < 0) {
				if (settings.putIfAbsent(setting, value) != null) {
					throw new IllegalArgumentException("keyauth." + setting + " is given both as a value and as settings");
				}
				return;
			}
			Object group = settings.computeIfAbsent(setting.substring(0, dot), (key) -> new TreeMap<String, Object>());
			if (!(group instanceof Map<?, ?>)) {
				throw new IllegalArgumentException("keyauth." + setting.substring(0, dot)
						+ " is given both as a value and as settings");
			}
			@SuppressWarnings("unchecked")
			Map<String, Object> nested = (Map<String, Object>) group;
			nested.put(setting.substring(dot + 1), value);
		});
		return settings;
	}

	private static void requireKnown(Map<?, ?> settings, Set<String> known, String prefix) {
		for (Object name : settings.keySet()) {
			if (!known.contains(String.valueOf(name))) {
				throw new IllegalArgumentException("unknown setting '" + prefix + "." + name + "'; known: "
						+ String.join(", ", new TreeSet<>(known)));
			}
		}
	}

	private static @Nullable Object first(Map<?, ?> settings, String name, String alias) {
		Object value = settings.get(name);
		return (value != null) ? value : settings.get(alias);
	}

	/** Only {@code true} or {@code false} (or absent: true); "no", "0" or a typo is a mistake. */
	private static boolean enabled(@Nullable Object value) {
		String text = (value != null) ? value.toString().strip() : "true";
		if ("true".equalsIgnoreCase(text) || "false".equalsIgnoreCase(text)) {
			return "true".equalsIgnoreCase(text);
		}
		throw new IllegalArgumentException("keyauth.enabled must be true or false, not '" + value + "'");
	}

	private static List<String> scopes(@Nullable Object value) {
		List<String> scopes = strings(value);
		for (String scope : scopes) {
			if (!ApiKey.SCOPE.matcher(scope).matches()) {
				// No key can be given such a scope: the route could never be used.
				throw new IllegalArgumentException("keyauth.scopes holds '" + scope + "', which no key can carry: "
						+ "a scope is 1 to 64 characters of A-Z a-z 0-9 . _ : / * -, starting with a letter or digit");
			}
		}
		return scopes;
	}

	/** A YAML list (bound as a list, or as a map keyed 0, 1, ...) or a comma-separated string. */
	static List<String> strings(@Nullable Object value) {
		List<String> result = new ArrayList<>();
		if (value instanceof Collection<?> items) {
			items.forEach((item) -> addAll(result, item));
		}
		else if (value instanceof Map<?, ?> indexed) {
			Map<Integer, Object> ordered = new TreeMap<>();
			indexed.forEach((index, item) -> ordered.put(index(index), item));
			ordered.values().forEach((item) -> addAll(result, item));
		}
		else if (value != null) {
			addAll(result, value);
		}
		return result;
	}

	private static int index(Object key) {
		try {
			return Integer.parseInt(key.toString());
		}
		catch (NumberFormatException ex) {
			throw new IllegalArgumentException("keyauth.scopes must be a list or a comma-separated string, "
					+ "not a map with the key '" + key + "'");
		}
	}

	private static void addAll(List<String> result, @Nullable Object item) {
		if (item instanceof Map<?, ?> || item instanceof Collection<?>) {
			throw new IllegalArgumentException("keyauth.scopes must be a list of scopes, not a list of lists or maps");
		}
		for (String part : String.valueOf(item).split("[,\\s]+")) {
			if (!part.isEmpty()) {
				result.add(part);
			}
		}
	}

	private static @Nullable String anonymousConsumer(@Nullable Object value) {
		String consumer = text(value, "keyauth.anonymous-consumer");
		if (consumer != null && (consumer.length() > ApiKey.MAX_CONSUMER_ID_LENGTH
				|| !ApiKey.CONSUMER_ID.matcher(consumer).matches())) {
			// It is forwarded as a header value, as a key's consumer id is: the same rules hold.
			throw new IllegalArgumentException("keyauth.anonymous-consumer must be printable ASCII of at most "
					+ ApiKey.MAX_CONSUMER_ID_LENGTH + " characters, not '" + consumer + "'");
		}
		return consumer;
	}

	private static @Nullable String queryParam(@Nullable Object value) {
		String name = text(value, "keyauth.query-param");
		if (name != null && !HeaderApiKeyCredentialConverter.isQueryParamName(name)) {
			throw new IllegalArgumentException("keyauth.query-param must be a query parameter name, not '" + name + "'");
		}
		return name;
	}

	private static @Nullable String text(@Nullable Object value, String setting) {
		if (value instanceof Map<?, ?> || value instanceof Collection<?>) {
			throw new IllegalArgumentException(setting + " must be a single value");
		}
		if (value == null || value.toString().isBlank()) {
			return null;
		}
		return value.toString().strip();
	}

	private static @Nullable RateLimit rateLimit(@Nullable Object value) {
		if (value == null) {
			return null;
		}
		if (!(value instanceof Map<?, ?> settings)) {
			throw new IllegalArgumentException("keyauth.rate-limit must hold requests-per-second and, optionally, burst");
		}
		requireKnown(settings, RATE_LIMIT_SETTINGS, "keyauth.rate-limit");
		Object rps = first(settings, "requests-per-second", "requestsPerSecond");
		if (rps == null) {
			throw new IllegalArgumentException("keyauth.rate-limit needs requests-per-second");
		}
		int perSecond = positiveInt(rps, "requests-per-second", RateLimit.MAX_REQUESTS_PER_SECOND);
		Object burst = settings.get("burst");
		int burstSize = (burst != null) ? positiveInt(burst, "burst", RateLimit.MAX_BURST) : perSecond;
		if (burstSize < perSecond) {
			throw new IllegalArgumentException("keyauth.rate-limit.burst must be at least requests-per-second");
		}
		return new RateLimit(perSecond, burstSize);
	}

	private static int positiveInt(Object value, String name, int max) {
		try {
			int parsed = Integer.parseInt(value.toString().strip());
			if (parsed >= 1 && parsed <= max) {
				return parsed;
			}
		}
		catch (NumberFormatException ex) {
			// reported below, with the range
		}
		throw new IllegalArgumentException("keyauth.rate-limit." + name + " must be an integer from 1 to " + max
				+ ", not '" + value + "'");
	}

}
