package dev.keyauth.e2e;

import java.time.Duration;
import java.util.Map;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.test.EchoUpstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PostgreSQL unreachable (nothing listens on the port): keys that cannot be checked get 503
 * auth_unavailable with Retry-After, never 401 and never 500; keys that need no lookup are still
 * refused correctly.
 */
@SpringBootTest(classes = MinimalGatewayApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "spring.r2dbc.url=r2dbc:postgresql://127.0.0.1:9/keyauth",
				"spring.r2dbc.username=postgres", "keyauth.store.migrate=false", "keyauth.store.timeout=1s",
				"keyauth.store.retry-after=3s" })
class StoreUnavailableTest {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	static final EchoUpstream upstream = new EchoUpstream();

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.url", dev.keyauth.test.TestRedis::url);
		dev.keyauth.test.TestServices.route(registry, 0, "echo", upstream::uri, "/**");
	}

	@AfterAll
	static void stop() {
		upstream.close();
	}

	@LocalServerPort
	int port;

	@Test
	void aKeyThatCannotBeCheckedIs503NotA401() {
		WebTestClient proxy = WebTestClient.bindToServer()
			.baseUrl("http://127.0.0.1:" + this.port)
			.responseTimeout(Duration.ofSeconds(10))
			.build();
		String wellFormed = new ApiKeyGenerator(new ApiKeyFormat("sk_live_")).generateKey();
		proxy.get().uri("/x").header("X-API-Key", wellFormed).exchange()
			.expectStatus().isEqualTo(503)
			.expectHeader().valueEquals("Retry-After", "3")
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "auth_unavailable"));
		// Checked offline, so still a precise answer while the store is down.
		proxy.get().uri("/x").header("X-API-Key", "sk_live_nonsense").exchange().expectStatus().isUnauthorized()
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "invalid_api_key"));
		proxy.get().uri("/x").exchange().expectStatus().isUnauthorized()
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "missing_api_key"));
		assertThat(upstream.hasReceived()).isFalse();
	}

}
