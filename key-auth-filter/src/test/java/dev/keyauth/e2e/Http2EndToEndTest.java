package dev.keyauth.e2e;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.keyauth.test.AdminClient;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A gateway serving HTTP/2 ({@code server.http2.enabled}; cleartext h2c here, as behind a load
 * balancer that ends TLS), with clients speaking nothing else: Reactor Netty hands the gateway
 * each stream as a request of its own, and the credential must still be removed, spoofed identity
 * headers dropped and refusals answered the same way as over HTTP/1.1.
 */
@SpringBootTest(classes = MinimalGatewayApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "server.http2.enabled=true",
				"keyauth.admin.token=" + KeyAuthEndToEndTest.ADMIN_TOKEN })
class Http2EndToEndTest {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	static final EchoUpstream upstream = new EchoUpstream();

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		TestServices.register(registry);
		TestServices.route(registry, 0, "echo", upstream::uri, "/echo/**");
	}

	@AfterAll
	static void stopUpstream() {
		upstream.close();
	}

	@LocalServerPort
	int port;

	@LocalManagementPort
	int managementPort;

	WebTestClient h2c;

	AdminClient admin;

	@BeforeEach
	void clients() {
		// Prior knowledge: the client speaks HTTP/2 from its first byte, with no upgrade.
		this.h2c = WebTestClient
			.bindToServer(new ReactorClientHttpConnector(HttpClient.create().protocol(HttpProtocol.H2C)))
			.baseUrl("http://127.0.0.1:" + this.port)
			.responseTimeout(Duration.ofSeconds(10))
			.build();
		this.admin = new AdminClient(this.managementPort, KeyAuthEndToEndTest.ADMIN_TOKEN);
		upstream.clear();
	}

	@Test
	void aValidKeyIsForwardedWithItsIdentityAndWithoutTheCredential() {
		Map<String, Object> created = this.admin.create("h2-consumer", List.of("orders:read"));
		String key = (String) created.get("key");
		this.h2c.get().uri("/echo/orders").header(HttpHeaders.AUTHORIZATION, "Bearer " + key)
			.header("X-Consumer-Id", "spoofed").header("X-Api-Key-Scopes", "admin")
			.exchange().expectStatus().isOk();
		EchoUpstream.Received received = upstream.take();
		assertThat(received.headers().getFirst("X-Consumer-Id")).isEqualTo("h2-consumer");
		assertThat(received.headers().get("X-Consumer-Id")).hasSize(1);
		assertThat(received.headers().getFirst("X-Api-Key-Id")).isEqualTo(created.get("id"));
		assertThat(received.headers().getFirst("X-Api-Key-Scopes")).isEqualTo("orders:read");
		assertThat(received.headers().containsHeader(HttpHeaders.AUTHORIZATION)).isFalse();
	}

	@Test
	void refusalsAreTheSameJsonAsOverHttp1() {
		String unknown = new dev.keyauth.key.ApiKeyGenerator(
				new dev.keyauth.key.ApiKeyFormat(dev.keyauth.key.ApiKeyFormat.DEFAULT_PREFIX)).generateKey();
		for (String key : List.of("not-a-key", unknown)) {
			this.h2c.get().uri("/echo/x").header("X-API-Key", key).exchange()
				.expectStatus().isUnauthorized()
				.expectHeader().valueEquals(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"api\", error=\"invalid_token\"")
				.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "invalid_api_key"));
		}
		this.h2c.get().uri("/echo/x").exchange().expectStatus().isUnauthorized()
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "missing_api_key"));
		assertThat(upstream.hasReceived()).isFalse();
	}

}
