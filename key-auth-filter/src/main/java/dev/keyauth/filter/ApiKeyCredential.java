package dev.keyauth.filter;

import java.util.List;

/**
 * A key as presented by the client, and the request headers that carried it (so they can be
 * removed before the request is forwarded).
 * <p>
 * {@link #toString()} never shows the key.
 */
public record ApiKeyCredential(String key, List<String> sourceHeaders) {

	@Override
	public String toString() {
		return "ApiKeyCredential[sourceHeaders=" + this.sourceHeaders + "]";
	}

}
