package dev.keyauth.filter;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

import dev.keyauth.store.ApiKey;
import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * Puts the caller's identity on the forwarded request, and makes sure only the gateway can.
 * <p>
 * Client-sent copies of the identity headers are removed on every route, authenticated,
 * anonymous or public: a downstream service that trusts {@code X-Consumer-Id} must never see one
 * the client wrote.
 */
public class IdentityHeaders {

	/** Marks requests forwarded as a route's anonymous consumer (no key was sent). */
	public static final String ANONYMOUS_HEADER = "X-Anonymous-Consumer";

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
	 * The exchange to forward for an authenticated key: identity set by us, spoofed copies gone,
	 * and (by default) the credential removed from headers and query.
	 */
	public ServerWebExchange authenticated(ServerWebExchange exchange, ApiKeyCredential credential, ApiKey key) {
		URI uri = (this.hideCredentials && credential.queryParam() != null)
				? withoutQueryParam(exchange.getRequest().getURI(), credential.queryParam()) : null;
		Consumer<HttpHeaders> rewrite = (headers) -> {
			removeIdentity(headers);
			if (this.hideCredentials) {
				for (String name : credential.sourceHeaders()) {
					headers.remove(name);
				}
			}
			headers.set(this.consumerIdHeader, key.consumerId());
			headers.set(this.keyIdHeader, key.id().toString());
			if (!key.scopes().isEmpty()) {
				headers.set(this.scopesHeader, String.join(",", key.scopes()));
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
		return RewrittenHeadersRequest.rewrite(exchange, (headers) -> {
			removeIdentity(headers);
			headers.set(this.consumerIdHeader, consumerId);
			headers.set(ANONYMOUS_HEADER, "true");
		});
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
