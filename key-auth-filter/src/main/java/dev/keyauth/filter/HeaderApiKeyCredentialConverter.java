package dev.keyauth.filter;

import java.util.List;

import dev.keyauth.authentication.InvalidApiKeyException;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.http.HttpHeaders;
import org.springframework.util.StringUtils;
import org.springframework.web.server.ServerWebExchange;

/**
 * Reads the key from {@code <bearer header>: Bearer <key>} (the scheme name is case-insensitive,
 * RFC 9110 section 11.1), from a dedicated header such as {@code X-API-Key}, and, only where
 * enabled (globally or by the route's {@code keyauth.query-param}), from a query parameter.
 * <p>
 * Every copy of every source must carry the same key: two different keys in one request are
 * refused, whichever would have been valid, so a client cannot probe by sending several. An
 * {@code Authorization} header with another scheme ({@code Basic}, ...) is not ours: it is
 * ignored and passed on untouched. So is a bearer token without the keys' prefix (a token of the
 * downstream service's own) when the request carries a key in one of the other sources: such a
 * token can never be one of this gateway's keys, and a client that sends its key in
 * {@code X-API-Key} and the service's token in {@code Authorization} means exactly that. Alone, it
 * is read as the key, so that a malformed key is refused as one instead of passing as no key.
 */
public class HeaderApiKeyCredentialConverter implements ApiKeyCredentialConverter {

	private static final String BEARER = "Bearer";

	private static final Mono<ApiKeyCredential> INVALID = Mono.error(InvalidApiKeyException.INSTANCE);

	private final @Nullable String bearerHeader;

	private final @Nullable String apiKeyHeader;

	private final List<String> bearerOnly;

	private final List<String> apiKeyOnly;

	private final List<String> both;

	private final @Nullable String queryParam;

	private final @Nullable String keyPrefix;

	/**
	 * @param bearerHeader header carrying {@code Bearer <key>}, or blank to not read one
	 * @param apiKeyHeader header carrying the bare key, or blank to not read one
	 */
	public HeaderApiKeyCredentialConverter(@Nullable String bearerHeader, @Nullable String apiKeyHeader) {
		this(bearerHeader, apiKeyHeader, null);
	}

	/**
	 * @param queryParam query parameter read on every route, or {@code null} to read one only
	 * where a route's policy names it
	 */
	public HeaderApiKeyCredentialConverter(@Nullable String bearerHeader, @Nullable String apiKeyHeader,
			@Nullable String queryParam) {
		this(bearerHeader, apiKeyHeader, queryParam, null);
	}

	/**
	 * @param keyPrefix the prefix of this gateway's keys, by which a bearer token of the
	 * downstream service's own is told from a key; {@code null} to read every bearer token as a key
	 */
	public HeaderApiKeyCredentialConverter(@Nullable String bearerHeader, @Nullable String apiKeyHeader,
			@Nullable String queryParam, @Nullable String keyPrefix) {
		this.keyPrefix = StringUtils.hasText(keyPrefix) ? keyPrefix : null;
		this.queryParam = StringUtils.hasText(queryParam) ? queryParam : null;
		this.bearerHeader = StringUtils.hasText(bearerHeader) ? bearerHeader : null;
		this.apiKeyHeader = StringUtils.hasText(apiKeyHeader) ? apiKeyHeader : null;
		this.bearerOnly = (this.bearerHeader != null) ? List.of(this.bearerHeader) : List.of();
		this.apiKeyOnly = (this.apiKeyHeader != null) ? List.of(this.apiKeyHeader) : List.of();
		this.both = (this.bearerHeader != null && this.apiKeyHeader != null)
				? List.of(this.bearerHeader, this.apiKeyHeader) : List.of();
	}

	@Override
	public Mono<ApiKeyCredential> convert(ServerWebExchange exchange) {
		HttpHeaders headers = exchange.getRequest().getHeaders();
		String key = null;
		boolean fromBearer = false;
		// A bearer token without the prefix, set aside until it is known whether a key came too.
		String foreign = null;
		boolean foreignTokensDiffer = false;
		if (this.bearerHeader != null) {
			List<String> values = headers.get(this.bearerHeader);
			if (values != null) {
				for (String value : values) {
					String token = bearerToken(value);
					if (token == null) {
						continue;
					}
					if (token.isEmpty()) {
						return INVALID;
					}
					if (!hasPrefix(token)) {
						foreignTokensDiffer |= (foreign != null && !foreign.equals(token));
						foreign = token;
						continue;
					}
					if (key != null && !key.equals(token)) {
						return INVALID;
					}
					key = token;
					fromBearer = true;
				}
			}
			if (fromBearer && foreign != null) {
				// A key and another token in the one header: which is meant is anyone's guess.
				return INVALID;
			}
		}
		boolean fromApiKeyHeader = false;
		if (this.apiKeyHeader != null) {
			List<String> values = headers.get(this.apiKeyHeader);
			if (values != null) {
				for (String value : values) {
					String token = value.strip();
					if (token.isEmpty() || (key != null && !key.equals(token))) {
						return INVALID;
					}
					key = token;
					fromApiKeyHeader = true;
				}
			}
		}
		String param = queryParam(exchange);
		boolean fromQuery = false;
		if (param != null) {
			List<String> values = exchange.getRequest().getQueryParams().get(param);
			if (values != null) {
				for (String value : values) {
					String token = (value != null) ? value.strip() : "";
					if (token.isEmpty() || (key != null && !key.equals(token))) {
						return INVALID;
					}
					key = token;
					fromQuery = true;
				}
			}
		}
		if (key == null && foreign != null) {
			// No key anywhere else: the token is what the client presents as its key.
			if (foreignTokensDiffer) {
				return INVALID;
			}
			key = foreign;
			fromBearer = true;
		}
		if (key == null) {
			return Mono.empty();
		}
		return Mono.just(new ApiKeyCredential(key, sources(fromBearer, fromApiKeyHeader), fromQuery ? param : null));
	}

	/**
	 * Every source that carries one of this gateway's keys (by the prefix), whether or not the
	 * request as a whole holds a single valid credential: two different keys, or a key next to
	 * an empty value, are all found, so that none of them reaches a route's downstream service.
	 * Without a prefix configured, as {@link ApiKeyCredentialConverter#keysOnRouteWithoutKeyAuth}.
	 */
	@Override
	public Mono<ApiKeyCredential> keysOnRouteWithoutKeyAuth(ServerWebExchange exchange) {
		if (this.keyPrefix == null) {
			return ApiKeyCredentialConverter.super.keysOnRouteWithoutKeyAuth(exchange);
		}
		HttpHeaders headers = exchange.getRequest().getHeaders();
		String inBearer = (this.bearerHeader != null) ? firstKeyIn(headers.get(this.bearerHeader), true) : null;
		String inApiKeyHeader = (this.apiKeyHeader != null) ? firstKeyIn(headers.get(this.apiKeyHeader), false)
				: null;
		String param = queryParam(exchange);
		String inQuery = (param != null) ? firstKeyIn(exchange.getRequest().getQueryParams().get(param), false) : null;
		String first = (inBearer != null) ? inBearer : (inApiKeyHeader != null) ? inApiKeyHeader : inQuery;
		if (first == null) {
			return Mono.empty();
		}
		return Mono.just(new ApiKeyCredential(first, sources(inBearer != null, inApiKeyHeader != null),
				(inQuery != null) ? param : null));
	}

	/** The first of {@code values} (as bearer tokens, or bare) that has the keys' prefix. */
	private @Nullable String firstKeyIn(@Nullable List<String> values, boolean bearer) {
		if (values == null) {
			return null;
		}
		for (String value : values) {
			String token = (value == null) ? null : bearer ? bearerToken(value) : value.strip();
			if (token != null && hasPrefix(token)) {
				return token;
			}
		}
		return null;
	}

	private boolean hasPrefix(String token) {
		return this.keyPrefix == null || token.startsWith(this.keyPrefix);
	}

	private @Nullable String queryParam(ServerWebExchange exchange) {
		RouteKeyAuthPolicy policy = exchange.getAttribute(ApiKeyAuthenticationFilter.KEY_AUTH_POLICY_ATTR);
		return (policy != null && policy.queryParam() != null) ? policy.queryParam() : this.queryParam;
	}

	private List<String> sources(boolean fromBearer, boolean fromApiKeyHeader) {
		if (fromBearer && fromApiKeyHeader) {
			return this.both;
		}
		if (fromBearer) {
			return this.bearerOnly;
		}
		return fromApiKeyHeader ? this.apiKeyOnly : List.of();
	}

	/**
	 * Whether {@code name} can be a query parameter that carries a key: printable ASCII without
	 * spaces or the query's own delimiters ({@code & = #}). Global and per-route settings are both
	 * held to it.
	 */
	public static boolean isQueryParamName(String name) {
		return !name.isEmpty() && name.chars().allMatch((c) -> c > 0x20 && c < 0x7f && "&=#".indexOf(c) < 0);
	}

	/**
	 * The token of a {@code Bearer} value (the scheme in any letter case, alone or followed by
	 * whitespace), stripped and possibly empty; {@code null} for a value of another scheme.
	 */
	private static @Nullable String bearerToken(String value) {
		if (!value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
			return null;
		}
		if (value.length() > BEARER.length() && !Character.isWhitespace(value.charAt(BEARER.length()))) {
			return null;
		}
		return value.substring(BEARER.length()).strip();
	}

}
