package dev.keyauth.filter;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * A key as presented by the client, and where it was: the request headers and the query
 * parameter that carried it, so they can be removed before the request is forwarded.
 * <p>
 * {@link #toString()} never shows the key.
 */
public record ApiKeyCredential(String key, List<String> sourceHeaders, @Nullable String queryParam) {

	public ApiKeyCredential(String key, List<String> sourceHeaders) {
		this(key, sourceHeaders, null);
	}

	@Override
	public String toString() {
		return "ApiKeyCredential[sourceHeaders=" + this.sourceHeaders + ", queryParam=" + this.queryParam + "]";
	}

}
