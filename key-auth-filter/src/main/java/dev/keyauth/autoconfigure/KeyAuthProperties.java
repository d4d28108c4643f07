package dev.keyauth.autoconfigure;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import dev.keyauth.filter.HeaderApiKeyCredentialConverter;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.store.RateLimit;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.StringUtils;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * Configuration of API-key authentication, under {@code keyauth.*}.
 * <p>
 * Validates itself as it is bound (Spring Boot applies a properties class's own
 * {@link Validator}): a value the plugin could only misbehave with (a negative TTL, a header name
 * with a space, a zero timeout) stops start-up with Boot's report of the property, its value,
 * where it came from and what it must be, instead of failing later or silently.
 */
@ConfigurationProperties("keyauth")
public class KeyAuthProperties implements Validator {

	/** A header name: RFC 9110's token characters. */
	private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

	private static final Pattern REALM = Pattern.compile("[A-Za-z0-9 ._-]{1,64}");

	/**
	 * Whether to authenticate gateway requests by API key. When false, no key-auth bean is
	 * created at all.
	 */
	private boolean enabled = true;

	/**
	 * Realm announced in the WWW-Authenticate challenge of every 401 response. Letters, digits,
	 * spaces and . _ - only.
	 */
	private String realm = "api";

	private final Key key = new Key();

	private final Credentials credentials = new Credentials();

	private final Paths paths = new Paths();

	private final Headers headers = new Headers();

	private final Store store = new Store();

	private final Admin admin = new Admin();

	private final Cache cache = new Cache();

	private final ExpiryWarning expiryWarning = new ExpiryWarning();

	private final Usage usage = new Usage();

	private final RateLimiting rateLimit = new RateLimiting();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public String getRealm() {
		return this.realm;
	}

	public void setRealm(String realm) {
		this.realm = realm;
	}

	public Key getKey() {
		return this.key;
	}

	public Credentials getCredentials() {
		return this.credentials;
	}

	public Paths getPaths() {
		return this.paths;
	}

	public Headers getHeaders() {
		return this.headers;
	}

	public Store getStore() {
		return this.store;
	}

	public Admin getAdmin() {
		return this.admin;
	}

	public Cache getCache() {
		return this.cache;
	}

	public ExpiryWarning getExpiryWarning() {
		return this.expiryWarning;
	}

	public Usage getUsage() {
		return this.usage;
	}

	public RateLimiting getRateLimit() {
		return this.rateLimit;
	}

	@Override
	public boolean supports(Class<?> type) {
		return KeyAuthProperties.class.isAssignableFrom(type);
	}

	@Override
	public void validate(Object target, Errors errors) {
		KeyAuthProperties properties = (KeyAuthProperties) target;
		if (!properties.isEnabled()) {
			return;
		}
		if (properties.realm == null || !REALM.matcher(properties.realm).matches()) {
			errors.rejectValue("realm", "keyauth.realm",
					"must be 1 to 64 characters of letters, digits, spaces and . _ - (it is quoted in WWW-Authenticate)");
		}
		try {
			new ApiKeyFormat(properties.key.prefix);
		}
		catch (IllegalArgumentException ex) {
			errors.rejectValue("key.prefix", "keyauth.key.prefix", "must be 1 to 32 characters of A-Z, a-z, 0-9 and '_'");
		}
		Credentials credentials = properties.credentials;
		if (!StringUtils.hasText(credentials.bearerHeader) && !StringUtils.hasText(credentials.apiKeyHeader)) {
			errors.rejectValue("credentials.apiKeyHeader", "keyauth.credentials",
					"is empty, and so is keyauth.credentials.bearer-header: no request could ever carry a key");
		}
		headerName(errors, "credentials.bearerHeader", credentials.bearerHeader, false);
		headerName(errors, "credentials.apiKeyHeader", credentials.apiKeyHeader, false);
		if (StringUtils.hasText(credentials.queryParam)
				&& !HeaderApiKeyCredentialConverter.isQueryParamName(credentials.queryParam.strip())) {
			errors.rejectValue("credentials.queryParam", "keyauth.queryParam", "must be a query parameter name");
		}
		identityHeaders(properties, errors);
		positive(errors, "store.timeout", properties.store.timeout);
		if (properties.store.retryAfter == null || properties.store.retryAfter.toSeconds() < 1) {
			errors.rejectValue("store.retryAfter", "keyauth.retryAfter", "must be at least 1s (Retry-After counts seconds)");
		}
		if (properties.admin.maxScopes < 1) {
			errors.rejectValue("admin.maxScopes", "keyauth.min", "must be at least 1");
		}
		if (properties.admin.maxPageSize < 1) {
			errors.rejectValue("admin.maxPageSize", "keyauth.min", "must be at least 1");
		}
		notNegative(errors, "admin.rotationGracePeriod", properties.admin.rotationGracePeriod);
		cache(properties.cache, errors);
		notNegative(errors, "expiryWarning.window", properties.expiryWarning.window);
		headerName(errors, "expiryWarning.header", properties.expiryWarning.header, false);
		positive(errors, "usage.flushInterval", properties.usage.flushInterval);
		rateLimit(properties.rateLimit, errors);
	}

	/** The identity headers must be names, and each its own: a shared name would mix two values. */
	private static void identityHeaders(KeyAuthProperties properties, Errors errors) {
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("headers.consumerId", properties.headers.consumerId);
		fields.put("headers.keyId", properties.headers.keyId);
		fields.put("headers.scopes", properties.headers.scopes);
		Map<String, String> taken = new LinkedHashMap<>();
		putName(taken, properties.credentials.bearerHeader, "credentials.bearerHeader");
		putName(taken, properties.credentials.apiKeyHeader, "credentials.apiKeyHeader");
		fields.forEach((field, name) -> {
			headerName(errors, field, name, true);
			String clash = putName(taken, name, field);
			if (clash != null) {
				errors.rejectValue(field, "keyauth.header.clash", "is the same header as keyauth." + dashed(clash));
			}
		});
	}

	private static @Nullable String putName(Map<String, String> taken, @Nullable String name, String field) {
		return StringUtils.hasText(name) ? taken.putIfAbsent(name.toLowerCase(Locale.ROOT), field) : null;
	}

	private static String dashed(String field) {
		return field.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
	}

	private static void cache(Cache cache, Errors errors) {
		notNegative(errors, "cache.staleIfError", cache.staleIfError);
		// Zero would also be refused by Redis, whose expiry must be positive.
		positive(errors, "cache.negativeTtl", cache.negativeTtl);
		if (cache.local.enabled && cache.local.maxSize < 1) {
			errors.rejectValue("cache.local.maxSize", "keyauth.min",
					"must be at least 1 (set keyauth.cache.local.enabled=false for no in-process cache)");
		}
		positive(errors, "cache.local.ttl", cache.local.ttl);
		notNegative(errors, "cache.local.refreshAhead", cache.local.refreshAhead);
		positive(errors, "cache.redis.ttl", cache.redis.ttl);
		positive(errors, "cache.redis.timeout", cache.redis.timeout);
		Cache.Invalidation invalidation = cache.invalidation;
		positive(errors, "cache.invalidation.heartbeatInterval", invalidation.heartbeatInterval);
		positive(errors, "cache.invalidation.unconfirmedTrust", invalidation.unconfirmedTrust);
		if (invalidation.heartbeatInterval != null && invalidation.unconfirmedTrust != null
				&& invalidation.unconfirmedTrust.compareTo(invalidation.heartbeatInterval) <= 0) {
			// Each entry would lose its trust between two heartbeats and be read again.
			errors.rejectValue("cache.invalidation.unconfirmedTrust", "keyauth.trust",
					"must be longer than keyauth.cache.invalidation.heartbeat-interval (a few intervals: "
							+ "one heartbeat late must not make every key be read again)");
		}
		notNegative(errors, "cache.invalidation.repeatAfter", invalidation.repeatAfter);
	}

	private static void rateLimit(RateLimiting rateLimit, Errors errors) {
		if (rateLimit.defaultRequestsPerSecond < 0 || rateLimit.defaultRequestsPerSecond > RateLimit.MAX_REQUESTS_PER_SECOND) {
			errors.rejectValue("rateLimit.defaultRequestsPerSecond", "keyauth.range",
					"must be from 0 (no default limit) to " + RateLimit.MAX_REQUESTS_PER_SECOND);
		}
		if (rateLimit.defaultBurst != 0 && (rateLimit.defaultBurst < rateLimit.defaultRequestsPerSecond
				|| rateLimit.defaultBurst > RateLimit.MAX_BURST)) {
			errors.rejectValue("rateLimit.defaultBurst", "keyauth.range",
					"must be 0 (the rate) or from keyauth.rate-limit.default-requests-per-second to " + RateLimit.MAX_BURST);
		}
		positive(errors, "rateLimit.timeout", rateLimit.timeout);
		if (!(rateLimit.localShare >= 0 && rateLimit.localShare <= 1)) {
			errors.rejectValue("rateLimit.localShare", "keyauth.range", "must be from 0 to 1");
		}
	}

	private static void positive(Errors errors, String field, @Nullable Duration value) {
		if (value == null || value.isNegative() || value.isZero()) {
			errors.rejectValue(field, "keyauth.positive", "must be positive");
		}
	}

	private static void notNegative(Errors errors, String field, @Nullable Duration value) {
		if (value == null || value.isNegative()) {
			errors.rejectValue(field, "keyauth.notNegative", "must be zero or positive");
		}
	}

	private static void headerName(Errors errors, String field, @Nullable String value, boolean required) {
		if (!StringUtils.hasText(value)) {
			if (required) {
				errors.rejectValue(field, "keyauth.header", "must be a header name");
			}
			return;
		}
		if (!HEADER_NAME.matcher(value).matches()) {
			errors.rejectValue(field, "keyauth.header",
					"must be a header name: letters, digits and ! # $ % & ' * + . ^ _ ` | ~ -, no spaces");
		}
	}

	public static class Key {

		/**
		 * Prefix of every issued key, 1 to 32 characters of A-Z, a-z, 0-9 and '_'. Changing it
		 * invalidates every key issued with the old prefix.
		 */
		private String prefix = ApiKeyFormat.DEFAULT_PREFIX;

		public String getPrefix() {
			return this.prefix;
		}

		public void setPrefix(String prefix) {
			this.prefix = prefix;
		}

	}

	public static class Paths {

		/**
		 * Whether to refuse (400 invalid_path) every routed request whose path a downstream
		 * server, or the gateway's own forwarding, could read as another path than the one the
		 * gateway routed: a '.' or '..' segment, plain or percent-encoded, an empty segment ('//')
		 * before the last, a percent-encoded control character (%00 to %1F, %7F), or a
		 * percent-encoded '/' or '\' (see allow-encoded-separators). The gateway matches routes
		 * on the path as it arrived, while most servers resolve dot segments, so without this a
		 * path such as /public/../orders/1 reaches a protected resource through a route without
		 * key auth; and it forwards /orders//admin/y as /orders/admin/y after matching it to
		 * /orders/** rather than /orders/admin/**. Turn off only if no route is more specific
		 * than another with the same downstream service and no downstream service resolves or
		 * decodes such paths.
		 */
		private boolean rejectAmbiguous = true;

		/**
		 * Whether a percent-encoded '/' or '\' (%2F, %5C) may pass, for APIs whose identifiers
		 * contain them, behind downstream servers that do not decode them into separators (nginx
		 * and Go's net/http do). Dot segments are refused either way.
		 */
		private boolean allowEncodedSeparators = false;

		public boolean isRejectAmbiguous() {
			return this.rejectAmbiguous;
		}

		public void setRejectAmbiguous(boolean rejectAmbiguous) {
			this.rejectAmbiguous = rejectAmbiguous;
		}

		public boolean isAllowEncodedSeparators() {
			return this.allowEncodedSeparators;
		}

		public void setAllowEncodedSeparators(boolean allowEncodedSeparators) {
			this.allowEncodedSeparators = allowEncodedSeparators;
		}

	}

	public static class Credentials {

		/**
		 * Request header read as "Bearer <key>". Empty to not accept keys there.
		 */
		private String bearerHeader = "Authorization";

		/**
		 * Request header read as a bare key. Empty to not accept keys there.
		 */
		private String apiKeyHeader = "X-API-Key";

		/**
		 * Whether to remove the headers (and query parameter) that carried the key before
		 * forwarding the request; on routes without key auth, those that carry a key with this
		 * gateway's prefix.
		 */
		private boolean hide = true;

		/**
		 * Query parameter read as a key on every route. Empty (the default) to accept keys in
		 * the query only on routes whose metadata sets keyauth.query-param.
		 */
		private String queryParam = "";

		public String getQueryParam() {
			return this.queryParam;
		}

		public void setQueryParam(String queryParam) {
			this.queryParam = queryParam;
		}

		public String getBearerHeader() {
			return this.bearerHeader;
		}

		public void setBearerHeader(String bearerHeader) {
			this.bearerHeader = bearerHeader;
		}

		public String getApiKeyHeader() {
			return this.apiKeyHeader;
		}

		public void setApiKeyHeader(String apiKeyHeader) {
			this.apiKeyHeader = apiKeyHeader;
		}

		public boolean isHide() {
			return this.hide;
		}

		public void setHide(boolean hide) {
			this.hide = hide;
		}

	}

	public static class Headers {

		/**
		 * Header that carries the authenticated key's consumer id to the downstream service.
		 * Client-sent copies are always removed.
		 */
		private String consumerId = "X-Consumer-Id";

		/**
		 * Header that carries the authenticated key's id to the downstream service. Client-sent
		 * copies are always removed.
		 */
		private String keyId = "X-Api-Key-Id";

		/**
		 * Header that carries the authenticated key's scopes, comma-separated, to the downstream
		 * service. Client-sent copies are always removed.
		 */
		private String scopes = "X-Api-Key-Scopes";

		public String getConsumerId() {
			return this.consumerId;
		}

		public void setConsumerId(String consumerId) {
			this.consumerId = consumerId;
		}

		public String getKeyId() {
			return this.keyId;
		}

		public void setKeyId(String keyId) {
			this.keyId = keyId;
		}

		public String getScopes() {
			return this.scopes;
		}

		public void setScopes(String scopes) {
			this.scopes = scopes;
		}

	}

	public static class Store {

		/**
		 * Longest a key lookup may take before the request is answered 503 auth_unavailable.
		 */
		private Duration timeout = Duration.ofSeconds(2);

		/**
		 * Value of the Retry-After header on 503 auth_unavailable responses.
		 */
		private Duration retryAfter = Duration.ofSeconds(5);

		/**
		 * Whether to create and upgrade the key tables with Flyway at start-up (history table
		 * keyauth_schema_history). Disable when the schema is managed elsewhere.
		 */
		private boolean migrate = true;

		/**
		 * JDBC URL Flyway migrates through. Derived from spring.r2dbc.url when not set.
		 */
		private @Nullable String migrationJdbcUrl;

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

		public Duration getRetryAfter() {
			return this.retryAfter;
		}

		public void setRetryAfter(Duration retryAfter) {
			this.retryAfter = retryAfter;
		}

		public boolean isMigrate() {
			return this.migrate;
		}

		public void setMigrate(boolean migrate) {
			this.migrate = migrate;
		}

		public @Nullable String getMigrationJdbcUrl() {
			return this.migrationJdbcUrl;
		}

		public void setMigrationJdbcUrl(@Nullable String migrationJdbcUrl) {
			this.migrationJdbcUrl = migrationJdbcUrl;
		}

	}

	public static class Admin {

		/**
		 * Whether to serve the apikeys admin API on the management port.
		 */
		private boolean enabled = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		/**
		 * Bearer token every call to the apikeys actuator endpoint must present (environment
		 * variable KEYAUTH_ADMIN_TOKEN). When unset, the endpoint refuses every call.
		 */
		private @Nullable String token;

		/**
		 * Most scopes one key may carry.
		 */
		private int maxScopes = 32;

		/**
		 * Largest page the list operation returns.
		 */
		private int maxPageSize = 200;

		/**
		 * How long a rotated key keeps working when the rotate call names no grace period.
		 */
		private Duration rotationGracePeriod = Duration.ofHours(24);

		public Duration getRotationGracePeriod() {
			return this.rotationGracePeriod;
		}

		public void setRotationGracePeriod(Duration rotationGracePeriod) {
			this.rotationGracePeriod = rotationGracePeriod;
		}

		public @Nullable String getToken() {
			return this.token;
		}

		public void setToken(@Nullable String token) {
			this.token = token;
		}

		public int getMaxScopes() {
			return this.maxScopes;
		}

		public void setMaxScopes(int maxScopes) {
			this.maxScopes = maxScopes;
		}

		public int getMaxPageSize() {
			return this.maxPageSize;
		}

		public void setMaxPageSize(int maxPageSize) {
			this.maxPageSize = maxPageSize;
		}

	}

	public static class Cache {

		/**
		 * How long a key read from PostgreSQL keeps working, counted from that read, while
		 * PostgreSQL cannot be reached. Zero to refuse (503) every key the moment PostgreSQL is
		 * unreachable.
		 */
		private Duration staleIfError = Duration.ofMinutes(5);

		/**
		 * How long "no such key" is remembered, in process and in Redis. Bounds the store
		 * queries a flood of invented keys can cause: one per distinct key per this interval.
		 */
		private Duration negativeTtl = Duration.ofSeconds(10);

		private final Local local = new Local();

		private final Redis redis = new Redis();

		private final Invalidation invalidation = new Invalidation();

		public Duration getStaleIfError() {
			return this.staleIfError;
		}

		public void setStaleIfError(Duration staleIfError) {
			this.staleIfError = staleIfError;
		}

		public Duration getNegativeTtl() {
			return this.negativeTtl;
		}

		public void setNegativeTtl(Duration negativeTtl) {
			this.negativeTtl = negativeTtl;
		}

		public Local getLocal() {
			return this.local;
		}

		public Redis getRedis() {
			return this.redis;
		}

		public Invalidation getInvalidation() {
			return this.invalidation;
		}

		public static class Local {

			/**
			 * Whether to keep keys in process (Caffeine).
			 */
			private boolean enabled = true;

			/**
			 * Most keys kept in process; the least recently used beyond it are dropped.
			 */
			private long maxSize = 100_000;

			/**
			 * How long a key is used from the in-process cache before it is read again from Redis
			 * or PostgreSQL, while the invalidation subscription is confirmed working.
			 */
			private Duration ttl = Duration.ofSeconds(60);

			/**
			 * How long before its TTL runs out a key that is still in use is read again in the
			 * background, so that the requests of a busy key do not wait for Redis or PostgreSQL
			 * when its TTL runs out. Zero to read keys again only when a request finds their TTL
			 * run out. At most half the TTL.
			 */
			private Duration refreshAhead = Duration.ofSeconds(5);

			public boolean isEnabled() {
				return this.enabled;
			}

			public void setEnabled(boolean enabled) {
				this.enabled = enabled;
			}

			public long getMaxSize() {
				return this.maxSize;
			}

			public void setMaxSize(long maxSize) {
				this.maxSize = maxSize;
			}

			public Duration getTtl() {
				return this.ttl;
			}

			public void setTtl(Duration ttl) {
				this.ttl = ttl;
			}

			public Duration getRefreshAhead() {
				return this.refreshAhead;
			}

			public void setRefreshAhead(Duration refreshAhead) {
				this.refreshAhead = refreshAhead;
			}

		}

		public static class Redis {

			/**
			 * Whether to share keys and invalidations between gateway instances through Redis
			 * (spring.data.redis.*). Without it, each instance caches alone and revocations are
			 * only seen by the instance that made them.
			 */
			private boolean enabled = true;

			/**
			 * How long a found key lives in Redis.
			 */
			private Duration ttl = Duration.ofSeconds(60);

			/**
			 * Longest a Redis call may take before it counts as a miss (and as a failure for the
			 * circuit breaker).
			 */
			private Duration timeout = Duration.ofMillis(50);

			/**
			 * Prefix of every Redis key and channel the plugin uses.
			 */
			private String keyPrefix = "keyauth:";

			/**
			 * Whether to make Lettuce reject commands at once while disconnected, instead of
			 * queueing them until it reconnects.
			 */
			private boolean failFast = true;

			public boolean isEnabled() {
				return this.enabled;
			}

			public void setEnabled(boolean enabled) {
				this.enabled = enabled;
			}

			public Duration getTtl() {
				return this.ttl;
			}

			public void setTtl(Duration ttl) {
				this.ttl = ttl;
			}

			public Duration getTimeout() {
				return this.timeout;
			}

			public void setTimeout(Duration timeout) {
				this.timeout = timeout;
			}

			public String getKeyPrefix() {
				return this.keyPrefix;
			}

			public void setKeyPrefix(String keyPrefix) {
				this.keyPrefix = keyPrefix;
			}

			public boolean isFailFast() {
				return this.failFast;
			}

			public void setFailFast(boolean failFast) {
				this.failFast = failFast;
			}

		}

		public static class Invalidation {

			/**
			 * How often each instance proves, through Redis, that its invalidation subscription
			 * delivers.
			 */
			private Duration heartbeatInterval = Duration.ofMillis(200);

			/**
			 * How long an in-process entry is still trusted past the last proof that every
			 * invalidation has arrived. Bounds how long a revoked key can keep working on an
			 * instance whose subscription is broken.
			 */
			private Duration unconfirmedTrust = Duration.ofSeconds(1);

			/**
			 * After a change, delete and publish once more after this delay, to catch a
			 * concurrent load that wrote the old answer back to Redis. Zero to not repeat.
			 */
			private Duration repeatAfter = Duration.ofSeconds(1);

			public Duration getHeartbeatInterval() {
				return this.heartbeatInterval;
			}

			public void setHeartbeatInterval(Duration heartbeatInterval) {
				this.heartbeatInterval = heartbeatInterval;
			}

			public Duration getUnconfirmedTrust() {
				return this.unconfirmedTrust;
			}

			public void setUnconfirmedTrust(Duration unconfirmedTrust) {
				this.unconfirmedTrust = unconfirmedTrust;
			}

			public Duration getRepeatAfter() {
				return this.repeatAfter;
			}

			public void setRepeatAfter(Duration repeatAfter) {
				this.repeatAfter = repeatAfter;
			}

		}

	}

	public static class ExpiryWarning {

		/**
		 * Successful responses for a key that expires within this window carry its expiry time
		 * in the header, so integrators rotate in time.
		 */
		private Duration window = Duration.ofDays(7);

		/**
		 * Response header carrying the expiry (ISO-8601). Empty to never send it.
		 */
		private String header = "X-Api-Key-Expires";

		public Duration getWindow() {
			return this.window;
		}

		public void setWindow(Duration window) {
			this.window = window;
		}

		public String getHeader() {
			return this.header;
		}

		public void setHeader(String header) {
			this.header = header;
		}

	}

	public static class Usage {

		/**
		 * Whether to record per-key request counts and last-used times.
		 */
		private boolean enabled = true;

		/**
		 * How often counted uses are written to the store (one statement per flush).
		 */
		private Duration flushInterval = Duration.ofSeconds(30);

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getFlushInterval() {
			return this.flushInterval;
		}

		public void setFlushInterval(Duration flushInterval) {
			this.flushInterval = flushInterval;
		}

	}

	public static class RateLimiting {

		/**
		 * Requests per second allowed to keys that carry no limit of their own. Unset (0) for no
		 * default limit.
		 */
		private int defaultRequestsPerSecond;

		/**
		 * Burst allowed to keys that carry no limit of their own; defaults to the rate.
		 */
		private int defaultBurst;

		/**
		 * Whether requests are allowed when Redis cannot be asked (counted in the metric
		 * keyauth.ratelimit.redis.failures). False refuses them with 429.
		 */
		private boolean failOpen = true;

		/**
		 * Longest a rate-limit check may take before Redis counts as unavailable: the plugin's
		 * per-key limits, and the gateway's own RequestRateLimiter's Redis calls.
		 */
		private Duration timeout = Duration.ofMillis(100);

		/**
		 * Fraction of a limit's per-second rate that an instance takes from the shared Redis
		 * bucket in one call and then spends locally, so a busy key costs a few Redis calls per
		 * second instead of one per request. Limits whose share is a single token (below 20
		 * requests per second at the default) are enforced exactly, one call per request. Unspent
		 * tokens are dropped after one second, so a key may get up to one such batch per instance
		 * more than its limit in a window, or leave one unused. 0 asks Redis on every request.
		 */
		private double localShare = 0.1;

		/**
		 * Whether responses carry the gateway's X-RateLimit-Remaining, -Replenish-Rate,
		 * -Burst-Capacity and -Requested-Tokens headers, like its own RedisRateLimiter's
		 * include-headers. Refusals carry Retry-After either way.
		 */
		private boolean includeHeaders = true;

		public int getDefaultRequestsPerSecond() {
			return this.defaultRequestsPerSecond;
		}

		public void setDefaultRequestsPerSecond(int defaultRequestsPerSecond) {
			this.defaultRequestsPerSecond = defaultRequestsPerSecond;
		}

		public int getDefaultBurst() {
			return this.defaultBurst;
		}

		public void setDefaultBurst(int defaultBurst) {
			this.defaultBurst = defaultBurst;
		}

		public boolean isFailOpen() {
			return this.failOpen;
		}

		public void setFailOpen(boolean failOpen) {
			this.failOpen = failOpen;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

		public double getLocalShare() {
			return this.localShare;
		}

		public void setLocalShare(double localShare) {
			this.localShare = localShare;
		}

		public boolean isIncludeHeaders() {
			return this.includeHeaders;
		}

		public void setIncludeHeaders(boolean includeHeaders) {
			this.includeHeaders = includeHeaders;
		}

	}

}
