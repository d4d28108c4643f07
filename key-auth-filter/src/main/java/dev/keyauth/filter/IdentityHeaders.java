package dev.keyauth.filter;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import dev.keyauth.store.ApiKey;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;
import reactor.netty.http.server.HttpServerRequest;

import org.springframework.cloud.gateway.filter.headers.HttpHeadersFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * Puts the caller's identity on the forwarded request, and makes sure only the gateway can.
 * <p>
 * Client-sent copies of the identity headers are removed on every route, authenticated,
 * anonymous or public: a downstream service that trusts {@code X-Consumer-Id} must never see one
 * the client wrote. So are their spellings with {@code _} for {@code -}
 * ({@code X_Consumer_Id}): servers that hand headers to applications CGI-style, as
 * {@code HTTP_X_CONSUMER_ID}, map both to the same name, and some (Puma before 6.4.3, Gunicorn
 * before 22) let the client's copy win over the gateway's.
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

	// What one pass over a request's header names found (bits of an int: nothing to allocate).
	private static final int IDENTITY_SENT = 1;

	private static final int OTHER_SPELLINGS_POSSIBLE = 2;

	private final String consumerIdHeader;

	private final String keyIdHeader;

	private final String scopesHeader;

	private final boolean hideCredentials;

	private final String[] identityNames;

	// The identity header names with '-' for every '_', as some servers read any of their spellings.
	private final List<String> identitySpellings;

	// Whether a configured name has a '_' itself, so that its '-' spelling needs the full look too.
	private final boolean underscoreInNames;

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
		List<String> names = List.of(consumerIdHeader, keyIdHeader, scopesHeader, ANONYMOUS_HEADER);
		this.identityNames = names.toArray(String[]::new);
		this.identitySpellings = names.stream().map(IdentityHeaders::dashed).toList();
		this.underscoreInNames = names.stream().anyMatch((name) -> name.indexOf('_') >= 0);
	}

	private static String dashed(String name) {
		return name.replace('_', '-');
	}

	/** The exchange without client-sent identity headers; the same exchange if it had none. */
	public ServerWebExchange withoutSpoofedIdentity(ServerWebExchange exchange) {
		int sent = identitySent(exchange.getRequest());
		if (sent == 0) {
			// Most requests carry none: the exchange is forwarded as it is.
			return exchange;
		}
		return RewrittenHeadersRequest.rewrite(exchange,
				(headers) -> removeIdentity(headers, (sent & OTHER_SPELLINGS_POSSIBLE) != 0));
	}

	/**
	 * The exchange to forward for an authenticated key: spoofed identity gone and (by default)
	 * the credential removed from headers and query; the key's identity follows from
	 * {@link #filter} once the filter has put the key on the exchange.
	 */
	public ServerWebExchange authenticated(ServerWebExchange exchange, ApiKeyCredential credential, ApiKey key) {
		return forwarded(exchange, credential, key);
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
		return forwarded(exchange, key, null);
	}

	/**
	 * Spoofed identity removed, the credential too (if hidden), and the key's identity written on
	 * the request where no header filter will write it ({@code key} {@code null}: none).
	 */
	private ServerWebExchange forwarded(ServerWebExchange exchange, ApiKeyCredential credential,
			@Nullable ApiKey key) {
		URI uri = (this.hideCredentials && credential.queryParam() != null)
				? withoutQueryParam(exchange.getRequest().getURI(), credential.queryParam()) : null;
		boolean onRequest = key != null && !sentThroughHeaderFilters(exchange);
		int sent = identitySent(exchange.getRequest());
		Consumer<HttpHeaders> rewrite = (headers) -> {
			if (sent != 0) {
				removeIdentity(headers, (sent & OTHER_SPELLINGS_POSSIBLE) != 0);
			}
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

	/** The exchange to forward as a route's anonymous consumer. */
	public ServerWebExchange anonymous(ServerWebExchange exchange, String consumerId) {
		boolean onRequest = !sentThroughHeaderFilters(exchange);
		int sent = identitySent(exchange.getRequest());
		ServerWebExchange forwarded = RewrittenHeadersRequest.rewrite(exchange, (headers) -> {
			if (sent != 0) {
				removeIdentity(headers, (sent & OTHER_SPELLINGS_POSSIBLE) != 0);
			}
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

	/**
	 * @param otherSpellings whether the identity headers' other spellings ({@code _} for
	 * {@code -} or the reverse) must be looked for too
	 */
	private void removeIdentity(HttpHeaders headers, boolean otherSpellings) {
		headers.remove(this.consumerIdHeader);
		headers.remove(this.keyIdHeader);
		headers.remove(this.scopesHeader);
		headers.remove(ANONYMOUS_HEADER);
		if (otherSpellings) {
			List<String> spelledOtherwise = new ArrayList<>(1);
			for (String name : headers.headerNames()) {
				if (isIdentitySpelling(dashed(name))) {
					spelledOtherwise.add(name);
				}
			}
			spelledOtherwise.forEach(headers::remove);
		}
	}

	private boolean isIdentitySpelling(String dashedName) {
		for (String spelling : this.identitySpellings) {
			if (spelling.equalsIgnoreCase(dashedName)) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Whether the client sent any identity header ({@link #IDENTITY_SENT}), and whether one may
	 * hide under another spelling ({@link #OTHER_SPELLINGS_POSSIBLE}: a header name with a
	 * {@code _}, which is rare, or a configured name that has one); {@code 0} for neither, the
	 * common case, in which there is nothing to remove. One pass over the names, where looking
	 * each identity header up would hash its name every time; on the server's own request it
	 * reads Netty's header entries in place, allocating only the iterator.
	 */
	private int identitySent(ServerHttpRequest request) {
		int sent = this.underscoreInNames ? OTHER_SPELLINGS_POSSIBLE : 0;
		if (RewrittenHeadersRequest.isServerRequest(request)
				&& ServerHttpRequestDecorator.getNativeRequest(request) instanceof HttpServerRequest server) {
			Iterator<Map.Entry<CharSequence, CharSequence>> entries = server.requestHeaders().iteratorCharSequence();
			while (entries.hasNext()) {
				sent |= identitySent(entries.next().getKey());
			}
			return sent;
		}
		for (String name : request.getHeaders().headerNames()) {
			sent |= identitySent(name);
		}
		return sent;
	}

	private int identitySent(CharSequence name) {
		int sent = contains(name, '_') ? OTHER_SPELLINGS_POSSIBLE : 0;
		for (String identity : this.identityNames) {
			if (AsciiString.contentEqualsIgnoreCase(identity, name)) {
				return sent | IDENTITY_SENT;
			}
		}
		return sent;
	}

	private static boolean contains(CharSequence text, char c) {
		for (int i = 0; i < text.length(); i++) {
			if (text.charAt(i) == c) {
				return true;
			}
		}
		return false;
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
