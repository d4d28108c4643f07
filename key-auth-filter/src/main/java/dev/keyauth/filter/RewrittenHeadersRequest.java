package dev.keyauth.filter;

import java.util.function.Consumer;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import org.jspecify.annotations.Nullable;
import reactor.netty.http.server.HttpServerRequest;

import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.support.Netty4HeadersAdapter;
import org.springframework.util.ClassUtils;
import org.springframework.web.server.ServerWebExchange;

/**
 * Rewrites the headers of the request the gateway forwards, and nothing else.
 * <p>
 * The request as the server made it (Reactor Netty's, which Spring wraps with a live view of the
 * server's own header map) is changed in place: no header is copied, nothing is allocated but
 * the view, and every later filter of the gateway sees the same request and exchange types as on
 * a gateway without key auth. (Measured against the copy it replaced, the throughput did not
 * change beyond the noise; bench/RESULTS.md.) The credential is then gone from the server's
 * request too, so nothing that inspects it later (an access log, an error handler) can see the
 * key.
 * <p>
 * Any other request (one an earlier web filter mutated, a decorator, a mock) has headers that
 * are not the server's live map: a mutated request's native request still holds the headers
 * from before the mutation. Such a request is forwarded as this decorator, whose headers are a
 * rewritten copy of what that filter made.
 */
final class RewrittenHeadersRequest extends ServerHttpRequestDecorator {

	private static final @Nullable Class<?> SERVER_REQUEST_TYPE = serverRequestType();

	private final HttpHeaders headers;

	private RewrittenHeadersRequest(ServerHttpRequest delegate, HttpHeaders headers) {
		super(delegate);
		this.headers = HttpHeaders.readOnlyHttpHeaders(headers);
	}

	/** The exchange with its request's headers rewritten by {@code rewrite}; nothing else changes. */
	static ServerWebExchange rewrite(ServerWebExchange exchange, Consumer<HttpHeaders> rewrite) {
		ServerHttpRequest request = exchange.getRequest();
		if (isServerRequest(request)
				&& ServerHttpRequestDecorator.getNativeRequest(request) instanceof HttpServerRequest server) {
			rewrite.accept(new HttpHeaders(new Netty4HeadersAdapter(server.requestHeaders())));
			return exchange;
		}
		DefaultHttpHeaders copy = new DefaultHttpHeaders();
		request.getHeaders().forEach(copy::add);
		HttpHeaders rewritten = new HttpHeaders(new Netty4HeadersAdapter(copy));
		rewrite.accept(rewritten);
		return exchange.mutate().request(new RewrittenHeadersRequest(request, rewritten)).build();
	}

	/**
	 * Whether this is the request as the server made it, whose native request's headers are its
	 * own (a mutated request's native request still holds those from before the mutation).
	 */
	static boolean isServerRequest(ServerHttpRequest request) {
		return request.getClass() == SERVER_REQUEST_TYPE;
	}

	private static @Nullable Class<?> serverRequestType() {
		try {
			return ClassUtils.forName("org.springframework.http.server.reactive.ReactorServerHttpRequest",
					RewrittenHeadersRequest.class.getClassLoader());
		}
		catch (ClassNotFoundException | LinkageError ex) {
			return null;
		}
	}

	@Override
	public HttpHeaders getHeaders() {
		return this.headers;
	}

}
