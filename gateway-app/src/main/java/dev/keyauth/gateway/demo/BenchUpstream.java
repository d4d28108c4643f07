package dev.keyauth.gateway.demo;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.Unpooled;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A minimal downstream service for benchmarks: answers every request with a fixed 2-byte body,
 * no Spring, so the gateway, not the downstream, is what gets measured. Started by
 * {@code bench/run.sh} from the gateway-app jar:
 * {@code java -cp gateway-app.jar -Dloader.main=dev.keyauth.gateway.demo.BenchUpstream
 * org.springframework.boot.loader.launch.PropertiesLauncher <port>}.
 */
public final class BenchUpstream {

	private static final byte[] BODY = "ok".getBytes(StandardCharsets.US_ASCII);

	private BenchUpstream() {
	}

	public static void main(String[] args) {
		int port = (args.length > 0) ? Integer.parseInt(args[0]) : 9100;
		DisposableServer server = HttpServer.create()
			.host("127.0.0.1")
			.port(port)
			.handle((request, response) -> response.header("Content-Type", "text/plain")
				.header("Content-Length", "2")
				.send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(BODY))))
			.bindNow();
		System.out.println("bench upstream listening on 127.0.0.1:" + server.port());
		server.onDispose().block();
	}

}
