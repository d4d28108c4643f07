package dev.keyauth.filter;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

import dev.keyauth.store.ApiKey;
import org.jspecify.annotations.Nullable;

import org.springframework.cloud.gateway.filter.headers.HttpHeadersFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * Puts the caller's identity on the forwarded request, and makes sure only the gateway can.
 * <p>
 * Client-sent copies of the identity headers are removed on every route, authenticated,
 * anonymous or public: a downstream service that trusts {@code X-Consumer-Id} must never see one
 * the client wrote.
 * <p>
 * The identity itself is written where the gateway sends the request on: this is also the
 * gateway's last {@link HttpHeadersFilter}, like the one that adds {@code X-Forwarded-*}. Spring
 * Cloud Gateway's header filters each copy every request header (several times per request), so
 * headers set on the request in the authentication filter were copied over and over; written
 * last, they are written once. Measured in the running gateway, that took about 7% off the CPU
 * time of an authenticated request (bench/RESULTS.md). Route filters therefore do not see the
 * identity headers (the client's copies are already gone); they read the key from
 * {@link ApiKeyAuthenticationFilter#AUTHENTICATED_API_KEY_ATTR}. Routes whose downstream is not
 * reached through the header filters ({@code forward:} and any scheme other than http, https, ws,
 * wss and lb) get the identity headers on the request as before.
 */
public class IdentityHeaders implements HttpHeadersFilter, Ordered {

	/** Marks requests forwarded as a route's anonymous consumer (no key was sent). */
	public static final String ANONYMOUS_HEADER = "X-Anonymous-Consumer";

	/**
	 * Order among the gateway's {@link HttpHeadersFilter}s: the last, so the others never copy
	 * the identity headers.
	 */
	public static final int IDENTITY_HEADERS_FILTER_ORDER = Ordered.LOWEST_PRECEDENCE;

	private static final String ANONYMOUS_CONSUMER_ATTR = IdentityHeaders.class.getName() + ".anonymousConsumer";

	private final String consumerIdHeader;

	private final String keyIdHeader;

	private final String scopesHeader;

	private final boolean hideCredentials;

	/**
	 * @param consumerIdHeader header for the key's consumer id
	 * @param keyIdHeader header for the key's id
	 * @param scopesHeader header for the key's scopes, comma-separated
	 * @param hideCredentials whether to remove the headers (and query parameter) that carried the key
	 */
	public IdentityHeaders(String consumerIdHeader, String keyIdHeader, String scopesHeader,
			boolean hideCredentials) {
		this.consumerIdHeader = consumerIdHeader;
		this.keyIdHeader = keyIdHeader;
		this.scopesHeader = scopesHeader;
		this.hideCredentials = hideCredentials;
	}

	/** The exchange without client-sent identity headers; the same exchange if it had none. */
	public ServerWebExchange withoutSpoofedIdentity(ServerWebExchange exchange) {
		if (!carriesIdentity(exchange.getRequest().getHeaders())) {
			return exchange;
		}
		return RewrittenHeadersRequest.rewrite(exchange, this::removeIdentity);
	}

	// Checked first on the server's own header map, which looks names up without copying
	// anything: most requests carry none, and then the exchange is forwarded as it is.
	private boolean carriesIdentity(HttpHeaders headers) {
		return headers.containsHeader(this.consumerIdHeader) || headers.containsHeader(this.keyIdHeader)
				|| headers.containsHeader(this.scopesHeader) || headers.containsHeader(ANONYMOUS_HEADER);
	}

	/**
	 * The exchange to forward for an authenticated key: spoofed identity gone and (by default)
	 * the credential removed from headers and query; the key's identity follows from
	 * {@link #filter} once the filter has put the key on the exchange.
	 */
	public ServerWebExchange authenticated(ServerWebExchange exchange, ApiKeyCredential credential, ApiKey key) {
		URI uri = (this.hideCredentials && credential.queryParam() != null)
				? withoutQueryParam(exchange.getRequest().getURI(), credential.queryParam()) : null;
		boolean onRequest = !sentThroughHeaderFilters(exchange);
		Consumer<HttpHeaders> rewrite = (headers) -> {
			removeIdentity(headers);
			if (this.hideCredentials) {
				for (String name : credential.sourceHeaders()) {
					headers.remove(name);
				}
			}
			if (onRequest) {
				setIdentity(headers, key);
			}
		};
		if (uri == null) {
			return RewrittenHeadersRequest.rewrite(exchange, rewrite);
		}
		// A key in the query string: the URI changes too, which only the full builder can do.
		return exchange.mutate().request((request) -> request.uri(uri).headers(rewrite)).build();
	}

	/**
	 * The exchange to forward on a route without key auth: spoofed identity gone and, if the
	 * client sent one of this gateway's keys all the same, that key removed as on an
	 * authenticated route (by default), so that no downstream service receives a key it did not
	 * need.
	 * @param key the gateway's key the request carries, or {@code null}; credentials that are
	 * not the gateway's keys (a token of the downstream service's own in
	 * {@code Authorization: Bearer}) are never passed here and go on unchanged
	 */
	public ServerWebExchange withoutKeyAuth(ServerWebExchange exchange, @Nullable ApiKeyCredential key) {
		if (key == null || !this.hideCredentials) {
			return withoutSpoofedIdentity(exchange);
		}
		URI uri = (key.queryParam() != null) ? withoutQueryParam(exchange.getRequest().getURI(), key.queryParam())
				: null;
		Consumer<HttpHeaders> rewrite = (headers) -> {
			removeIdentity(headers);
			for (String name : key.sourceHeaders()) {
				headers.remove(name);
			}
		};
		if (uri == null) {
			return RewrittenHeadersRequest.rewrite(exchange, rewrite);
		}
		return exchange.mutate().request((request) -> request.uri(uri).headers(rewrite)).build();
	}

	/** The exchange to forward as a route's anonymous consumer. */
	public ServerWebExchange anonymous(ServerWebExchange exchange, String consumerId) {
		boolean onRequest = !sentThroughHeaderFilters(exchange);
		ServerWebExchange forwarded = RewrittenHeadersRequest.rewrite(exchange, (headers) -> {
			removeIdentity(headers);
			if (onRequest) {
				setAnonymous(headers, consumerId);
			}
		});
		forwarded.getAttributes().put(ANONYMOUS_CONSUMER_ATTR, consumerId);
		return forwarded;
	}

	/**
	 * The anonymous consumer the exchange is forwarded as, or {@code null} if it is not (an
	 * authenticated key, a public route, a refused request).
	 */
	public static @Nullable String anonymousConsumer(ServerWebExchange exchange) {
		return exchange.getAttribute(ANONYMOUS_CONSUMER_ATTR);
	}

	/**
	 * Writes the identity of the exchange's caller onto the headers the gateway sends
	 * downstream; anything else passes unchanged.
	 */
	@Override
	public HttpHeaders filter(HttpHeaders input, ServerWebExchange exchange) {
		ApiKey key = exchange.getAttribute(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR);
		String anonymous = (key != null) ? null : anonymousConsumer(exchange);
		if (key == null && anonymous == null) {
			return input;
		}
		// Every header filter of the gateway returns a new map of its own, which is safe to
		// change; anything else (the request's read-only headers, should this filter be the only
		// one) is copied first.
		HttpHeaders output = (input.getClass() == HttpHeaders.class) ? input : copyOf(input);
		// Written last, so a route filter cannot have changed them either: set replaces, and
		// the identity headers this caller does not carry are removed.
		if (key != null) {
			setIdentity(output, key);
			if (key.scopes().isEmpty()) {
				output.remove(this.scopesHeader);
			}
			output.remove(ANONYMOUS_HEADER);
		}
		else {
			setAnonymous(output, anonymous);
			output.remove(this.keyIdHeader);
			output.remove(this.scopesHeader);
		}
		return output;
	}

	@Override
	public int getOrder() {
		return IDENTITY_HEADERS_FILTER_ORDER;
	}

	private void setIdentity(HttpHeaders headers, ApiKey key) {
		headers.set(this.consumerIdHeader, key.consumerId());
		headers.set(this.keyIdHeader, key.id().toString());
		if (!key.scopes().isEmpty()) {
			headers.set(this.scopesHeader, String.join(",", key.scopes()));
		}
	}

	private void setAnonymous(HttpHeaders headers, String consumerId) {
		headers.set(this.consumerIdHeader, consumerId);
		headers.set(ANONYMOUS_HEADER, "true");
	}

	private static HttpHeaders copyOf(HttpHeaders input) {
		HttpHeaders copy = new HttpHeaders();
		copy.putAll(input);
		return copy;
	}

	/**
	 * Whether the exchange's route reaches its downstream through the gateway's routing filters
	 * that apply {@link HttpHeadersFilter}s (Netty and WebSocket routing, also behind a load
	 * balancer). Without a route, or for any other scheme, the identity goes on the request.
	 */
	static boolean sentThroughHeaderFilters(ServerWebExchange exchange) {
		Route route = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
		String scheme = (route != null) ? route.getUri().getScheme() : null;
		if (scheme == null) {
			return false;
		}
		return switch (scheme) {
			case "http", "https", "ws", "wss", "lb" -> true;
			default -> false;
		};
	}

	private void removeIdentity(HttpHeaders headers) {
		headers.remove(this.consumerIdHeader);
		headers.remove(this.keyIdHeader);
		headers.remove(this.scopesHeader);
		headers.remove(ANONYMOUS_HEADER);
	}

	/**
	 * {@code uri} without every occurrence of the parameter; the other parameters keep their
	 * order and their exact encoding.
	 */
	static URI withoutQueryParam(URI uri, String param) {
		String query = uri.getRawQuery();
		if (query == null) {
			return uri;
		}
		StringBuilder kept = new StringBuilder(query.length());
		for (String pair : query.split("&", -1)) {
			int equals = pair.indexOf('=');
			String rawName = (equals >= 0) ? pair.substring(0, equals) : pair;
			if (param.equals(decode(rawName))) {
				continue;
			}
			if (kept.length() > 0) {
				kept.append('&');
			}
			kept.append(pair);
		}
		return UriComponentsBuilder.fromUri(uri)
			.replaceQuery((kept.length() > 0) ? kept.toString() : null)
			.build(true)
			.toUri();
	}

	private static @Nullable String decode(String raw) {
		try {
			return URLDecoder.decode(raw, StandardCharsets.UTF_8);
		}
		catch (IllegalArgumentException ex) {
			return raw;
		}
	}

}
