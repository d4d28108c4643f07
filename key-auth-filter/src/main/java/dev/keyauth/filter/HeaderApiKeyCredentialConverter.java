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
 * ignored and passed on untouched.
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
		if (this.bearerHeader != null) {
			List<String> values = headers.get(this.bearerHeader);
			if (values != null) {
				for (String value : values) {
					if (!isBearer(value)) {
						continue;
					}
					String token = value.substring(BEARER.length()).strip();
					if (token.isEmpty() || (key != null && !key.equals(token))) {
						return INVALID;
					}
					key = token;
					fromBearer = true;
				}
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
		if (key == null) {
			return Mono.empty();
		}
		return Mono.just(new ApiKeyCredential(key, sources(fromBearer, fromApiKeyHeader), fromQuery ? param : null));
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

	/** {@code Bearer} alone or followed by whitespace, in any letter case. */
	private static boolean isBearer(String value) {
		if (!value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
			return false;
		}
		return value.length() == BEARER.length() || Character.isWhitespace(value.charAt(BEARER.length()));
	}

}
