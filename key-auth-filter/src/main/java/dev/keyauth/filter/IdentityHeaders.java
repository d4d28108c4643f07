package dev.keyauth.filter;

import java.util.List;

import dev.keyauth.store.ApiKey;

import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;

/**
 * Puts the caller's identity on the forwarded request, and makes sure only the gateway can.
 * <p>
 * Client-sent copies of the identity headers are removed on every route, authenticated or not:
 * a downstream service that trusts {@code X-Consumer-Id} must never see one the client wrote.
 */
public class IdentityHeaders {

	private final String consumerIdHeader;

	private final String keyIdHeader;

	private final String scopesHeader;

	private final boolean hideCredentials;

	/**
	 * @param consumerIdHeader header for the key's consumer id
	 * @param keyIdHeader header for the key's id
	 * @param scopesHeader header for the key's scopes, comma-separated
	 * @param hideCredentials whether to remove the headers that carried the key
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
		HttpHeaders headers = exchange.getRequest().getHeaders();
		if (!headers.containsHeader(this.consumerIdHeader) && !headers.containsHeader(this.keyIdHeader)
				&& !headers.containsHeader(this.scopesHeader)) {
			return exchange;
		}
		return exchange.mutate().request((request) -> request.headers(this::removeIdentity)).build();
	}

	/**
	 * The exchange to forward for an authenticated key: identity set by us, spoofed copies gone,
	 * and (by default) the credential removed.
	 */
	public ServerWebExchange authenticated(ServerWebExchange exchange, ApiKeyCredential credential, ApiKey key) {
		return exchange.mutate().request((request) -> request.headers((headers) -> {
			removeIdentity(headers);
			if (this.hideCredentials) {
				removeCredential(headers, credential.sourceHeaders());
			}
			headers.set(this.consumerIdHeader, key.consumerId());
			headers.set(this.keyIdHeader, key.id().toString());
			if (!key.scopes().isEmpty()) {
				headers.set(this.scopesHeader, String.join(",", key.scopes()));
			}
		})).build();
	}

	private void removeIdentity(HttpHeaders headers) {
		headers.remove(this.consumerIdHeader);
		headers.remove(this.keyIdHeader);
		headers.remove(this.scopesHeader);
	}

	private static void removeCredential(HttpHeaders headers, List<String> sourceHeaders) {
		for (String name : sourceHeaders) {
			headers.remove(name);
		}
	}

}
