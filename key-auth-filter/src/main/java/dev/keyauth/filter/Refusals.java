package dev.keyauth.filter;

import java.util.function.Supplier;

import reactor.core.publisher.Mono;

import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;

/**
 * Answers a request the gateway refuses (401, 403, 429, 503) without leaving its connection in a
 * state the HTTP server mishandles.
 * <p>
 * A refusal is written before the request has been read to its end, unlike a proxied request,
 * whose body the gateway forwards. Reactor Netty before 1.3.8 (the version Spring Boot 4.0.7
 * manages is 1.3.6) can then stop reading that keep-alive connection, and the client's next
 * request on it hangs until the client gives up (reactor/reactor-netty#4361). So a request
 * without a body is read to its (empty) end before the refusal is written, which costs nothing;
 * a request with a body is answered at once with {@code Connection: close} rather than having
 * an unauthenticated upload read for nothing.
 */
public final class Refusals {

	private Refusals() {
	}

	/** Writes the refusal {@code write} returns once it is safe to. */
	public static Mono<Void> afterRequestRead(ServerWebExchange exchange, Supplier<Mono<Void>> write) {
		ServerHttpRequest request = exchange.getRequest();
		HttpHeaders headers = request.getHeaders();
		if (headers.getContentLength() > 0 || headers.containsHeader(HttpHeaders.TRANSFER_ENCODING)) {
			exchange.getResponse().getHeaders().set(HttpHeaders.CONNECTION, "close");
			return write.get();
		}
		return request.getBody().doOnNext(DataBufferUtils::release).then(Mono.defer(write));
	}

}
