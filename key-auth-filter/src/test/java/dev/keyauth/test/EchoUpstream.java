package dev.keyauth.test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;

/**
 * An in-process downstream service on a random loopback port. It answers every request with a
 * JSON echo of what it received and remembers each request, so tests can assert exactly which
 * headers and URI reached the downstream side of the gateway.
 */
public final class EchoUpstream implements AutoCloseable {

	private final DisposableServer server;

	// Lock-free: the server's event loops add to it, and a blocking queue's lock, when contended,
	// parks the loop (BlockHound then fails the upstream's request, and the gateway answers 500).
	private final Queue<Received> received = new ConcurrentLinkedQueue<>();

	private static final JsonMapper JSON = new JsonMapper();

	public EchoUpstream() {
		this.server = HttpServer.create().host("127.0.0.1").port(0).handle((request, response) -> {
			HttpHeaders headers = new HttpHeaders();
			request.requestHeaders().forEach((entry) -> headers.add(entry.getKey(), entry.getValue()));
			Received r = new Received(request.method().name(), request.uri(), headers);
			this.received.add(r);
			Map<String, Object> echo = new LinkedHashMap<>();
			echo.put("method", r.method());
			echo.put("uri", r.uri());
			Map<String, List<String>> headerMap = new LinkedHashMap<>();
			headers.forEach((name, values) -> headerMap.put(name, new ArrayList<>(values)));
			echo.put("headers", headerMap);
			byte[] body = JSON.writeValueAsBytes(echo);
			return response.header("Content-Type", "application/json")
				.sendByteArray(Mono.just(body))
				.then();
		}).bindNow();
	}

	public String uri() {
		return "http://127.0.0.1:" + this.server.port();
	}

	public int port() {
		return this.server.port();
	}

	/** The next request that reached this upstream, waiting up to 5 s for it. */
	public Received take() {
		long deadline = System.nanoTime() + 5_000_000_000L;
		Received r;
		while ((r = this.received.poll()) == null) {
			if (System.nanoTime() > deadline) {
				throw new AssertionError("no request reached the upstream");
			}
			try {
				Thread.sleep(5);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new AssertionError(ex);
			}
		}
		return r;
	}

	/** Whether any request reached this upstream since the last {@link #clear()}. */
	public boolean hasReceived() {
		return !this.received.isEmpty();
	}

	public void clear() {
		this.received.clear();
	}

	@Override
	public void close() {
		this.server.disposeNow();
	}

	public record Received(String method, String uri, HttpHeaders headers) {
	}

}
