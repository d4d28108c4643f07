package dev.keyauth.logging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.keyauth.e2e.MinimalGatewayApplication;
import dev.keyauth.test.AdminClient;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real traffic with DEBUG logging for the gateway, Reactor and Netty, wire logging (hex dumps)
 * on both the server and the client side, and access logs; every captured line goes through
 * the masking appender the plugin ships (see logback-test.xml). No raw key may appear, not even
 * spread over the rows of a hex dump.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = MinimalGatewayApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "keyauth.admin.token=log-token",
				"logging.level.org.springframework.cloud.gateway=DEBUG", "logging.level.reactor.netty=DEBUG",
				"logging.level.io.netty=DEBUG", "logging.level.reactor=DEBUG", "logging.level.dev.keyauth=DEBUG",
				"logging.level.org.springframework.web=DEBUG", "logging.level.org.springframework.r2dbc=DEBUG",
				"spring.cloud.gateway.server.webflux.httpserver.wiretap=true",
				"spring.cloud.gateway.server.webflux.httpclient.wiretap=true" })
class LogMaskingTest {

	static final EchoUpstream upstream = new EchoUpstream();

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		// Here, not in a static initializer: JUnit loads every test class before running any,
		// and the servers of the other test classes must not log access lines.
		System.setProperty("reactor.netty.http.server.accessLogEnabled", "true");
		TestServices.register(registry);
		registry.add("spring.cloud.gateway.server.webflux.routes[0].id", () -> "echo");
		registry.add("spring.cloud.gateway.server.webflux.routes[0].uri", upstream::uri);
		registry.add("spring.cloud.gateway.server.webflux.routes[0].predicates[0]", () -> "Path=/**");
		registry.add("spring.cloud.gateway.server.webflux.routes[0].metadata.keyauth.query-param", () -> "api_key");
	}

	@AfterAll
	static void stop() {
		upstream.close();
		System.clearProperty("reactor.netty.http.server.accessLogEnabled");
	}

	@LocalServerPort
	int port;

	@LocalManagementPort
	int managementPort;

	@Test
	void noRawKeyReachesAnyLogLine(CapturedOutput output) {
		AdminClient admin = new AdminClient(this.managementPort, "log-token");
		WebTestClient proxy = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + this.port)
			.responseTimeout(Duration.ofSeconds(10)).build();
		List<String> keys = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			keys.add((String) admin.create("log-" + i, List.of("read")).get("key"));
		}
		Map<String, Object> toRevoke = admin.create("log-revoked", List.of());
		String revoked = (String) toRevoke.get("key");
		String revokedId = (String) toRevoke.get("id");
		keys.add(revoked);
		for (String key : keys) {
			proxy.get().uri("/a").header("Authorization", "Bearer " + key).exchange().expectBody().returnResult();
			proxy.get().uri("/b").header("X-API-Key", key).exchange().expectBody().returnResult();
			proxy.get().uri("/c?x=1&api_key=" + key).exchange().expectBody().returnResult();
			proxy.get().uri("/d").header("X-API-Key", key).header("Authorization", "Bearer " + key + "x").exchange()
				.expectBody().returnResult();
		}
		admin.client().delete().uri("/{id}", revokedId).exchange().expectBody().returnResult();
		proxy.get().uri("/e").header("X-API-Key", revoked).exchange().expectStatus().isUnauthorized();

		String logs = output.getAll();
		String hexText = KeyMaskerTest.hexDumpText(logs);
		// Controls: the traffic was logged, wire dumps included, and keys were found and masked.
		assertThat(logs).contains("HTTP/1.1").contains("+--------+");
		assertThat(logs + hexText).contains(keys.get(0).substring(0, 12) + "*****");
		for (String key : keys) {
			assertThat(logs).doesNotContain(key).doesNotContain(key.substring(12));
			assertThat(hexText).doesNotContain(key).doesNotContain(key.substring(12));
		}
	}

}
