package dev.keyauth.gateway.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Profile;
import org.springframework.stereotype.Component;

/**
 * Two small downstream services for trying the gateway out ({@code demo} profile only): each
 * answers every request with JSON naming the service and echoing the method, URI and headers it
 * received, so a caller can see {@code X-Consumer-Id} arrive and the key not arrive.
 */
@Component
@Profile("demo")
public class DemoUpstreams implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(DemoUpstreams.class);

	private final Map<String, Integer> services;

	private final JsonMapper json = new JsonMapper();

	private final List<DisposableServer> servers = new ArrayList<>();

	public DemoUpstreams(@Value("${demo.orders.port:9001}") int ordersPort,
			@Value("${demo.inventory.port:9002}") int inventoryPort) {
		this.services = Map.of("orders", ordersPort, "inventory", inventoryPort);
	}

	@Override
	public void start() {
		this.services.forEach((name, port) -> {
			this.servers.add(HttpServer.create().host("127.0.0.1").port(port).handle((request, response) -> {
				Map<String, Object> echo = new LinkedHashMap<>();
				echo.put("service", name);
				echo.put("method", request.method().name());
				echo.put("uri", request.uri());
				Map<String, String> headers = new LinkedHashMap<>();
				request.requestHeaders().forEach((header) -> headers.merge(header.getKey(), header.getValue(),
						(a, b) -> a + ", " + b));
				echo.put("headers", headers);
				return response.header("Content-Type", "application/json")
					.sendByteArray(Mono.fromCallable(() -> this.json.writeValueAsBytes(echo)))
					.then();
			}).bindNow());
			logger.info("Demo service '" + name + "' listening on http://127.0.0.1:" + port);
		});
	}

	@Override
	public void stop() {
		this.servers.forEach(DisposableServer::disposeNow);
		this.servers.clear();
	}

	@Override
	public boolean isRunning() {
		return !this.servers.isEmpty();
	}

	@Override
	public int getPhase() {
		// Before the gateway's own web server starts taking requests.
		return SmartLifecycle.DEFAULT_PHASE - 2048;
	}

}
