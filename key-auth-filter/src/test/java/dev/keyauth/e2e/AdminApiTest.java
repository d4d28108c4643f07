package dev.keyauth.e2e;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.test.AdminClient;
import dev.keyauth.test.TestPostgres;
import dev.keyauth.test.TestServices;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin API on the management port against real PostgreSQL: what it returns, what it
 * refuses, and that a refused request stores nothing.
 */
@SpringBootTest(classes = MinimalGatewayApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "keyauth.admin.token=" + KeyAuthEndToEndTest.ADMIN_TOKEN,
				"keyauth.admin.max-scopes=3" })
class AdminApiTest {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		TestServices.properties().forEach((name, value) -> registry.add(name, () -> value));
	}

	@LocalManagementPort
	int managementPort;

	AdminClient admin;

	WebTestClient anonymous;

	String consumer;

	@BeforeEach
	void setUp() {
		this.admin = new AdminClient(this.managementPort, KeyAuthEndToEndTest.ADMIN_TOKEN);
		this.anonymous = WebTestClient
			.bindToServer(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.newConnection())))
			.baseUrl("http://127.0.0.1:" + this.managementPort + "/actuator/apikeys")
			.responseTimeout(Duration.ofSeconds(10))
			.build();
		this.consumer = "consumer-" + UUID.randomUUID();
	}

	private WebTestClient.ResponseSpec post(String body) {
		return this.admin.client().post().contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange();
	}

	private void expectRefused(String body, HttpStatus status, String error, String messagePart) {
		post(body).expectStatus().isEqualTo(status)
			.expectHeader().contentType(MediaType.APPLICATION_JSON)
			.expectBody(JSON).value((response) -> {
				assertThat(response).containsEntry("error", error);
				assertThat((String) response.get("message")).contains(messagePart);
			});
	}

	private List<?> keysOf(String consumerId) {
		Map<String, Object> page = this.admin.client().get().uri("?consumerId={c}", consumerId).exchange()
			.expectStatus().isOk().expectBody(JSON).returnResult().getResponseBody();
		return (List<?>) page.get("items");
	}

	@Test
	void createReturnsTheKeyOnceAndReadsNeverDo() {
		Map<String, Object> created = this.admin.create(Map.of("consumerId", this.consumer, "name", "reporting",
				"scopes", List.of("a", "b"), "expiresAt", "2099-01-01T00:00:00Z", "metadata", Map.of("tier", "gold")));
		String key = (String) created.get("key");
		String id = (String) created.get("id");
		assertThat(created).containsEntry("consumerId", this.consumer).containsEntry("name", "reporting")
			.containsEntry("scopes", List.of("a", "b")).containsEntry("expiresAt", "2099-01-01T00:00:00Z");

		String one = this.admin.client().get().uri("/{id}", id).exchange().expectStatus().isOk()
			.expectBody(String.class).returnResult().getResponseBody();
		String list = this.admin.client().get().uri("?consumerId={c}", this.consumer).exchange().expectStatus().isOk()
			.expectBody(String.class).returnResult().getResponseBody();
		for (String body : List.of(one, list)) {
			assertThat(body).contains(id).contains(key.substring(0, 12)).doesNotContain(key)
				.doesNotContain(key.substring(12, 30)).doesNotContainIgnoringCase("hash");
		}
		this.admin.client().get().uri("/{id}", id).exchange().expectBody(JSON).value((view) -> {
			assertThat(view).containsEntry("status", "active").containsEntry("metadata", Map.of("tier", "gold"));
			assertThat(view.get("createdAt")).isEqualTo(created.get("createdAt"));
			assertThat(view).doesNotContainKey("key");
		});
	}

	@Test
	void listFiltersByConsumerAndPages() {
		for (int i = 0; i < 5; i++) {
			this.admin.create(this.consumer, List.of());
		}
		this.admin.create("someone-else-" + UUID.randomUUID(), List.of());
		Map<String, Object> first = this.admin.client().get().uri("?consumerId={c}&size=2", this.consumer).exchange()
			.expectStatus().isOk().expectBody(JSON).returnResult().getResponseBody();
		Map<String, Object> last = this.admin.client().get().uri("?consumerId={c}&size=2&page=2", this.consumer)
			.exchange().expectStatus().isOk().expectBody(JSON).returnResult().getResponseBody();
		assertThat((List<?>) first.get("items")).hasSize(2);
		assertThat(first).containsEntry("hasMore", true).containsEntry("page", 0).containsEntry("size", 2);
		assertThat((List<?>) last.get("items")).hasSize(1);
		assertThat(last).containsEntry("hasMore", false);
		assertThat(keysOf(this.consumer)).hasSize(5)
			.allSatisfy((item) -> assertThat(((Map<?, ?>) item).get("consumerId")).isEqualTo(this.consumer));
	}

	@Test
	void revokingIsIdempotentAndKeepsTheFirstTime() {
		String id = (String) this.admin.create(this.consumer, List.of()).get("id");
		Map<String, Object> first = this.admin.revoke(id);
		Map<String, Object> again = this.admin.revoke(id);
		assertThat(first).containsEntry("status", "revoked");
		assertThat(first.get("revokedAt")).isNotNull().isEqualTo(again.get("revokedAt"));
	}

	@Test
	void badInputIsA400NamingTheProblemAndStoresNothing() {
		String c = "\"consumerId\":\"" + this.consumer + "\"";
		expectRefused("{", HttpStatus.BAD_REQUEST, "invalid_request", "not valid JSON");
		expectRefused("[]", HttpStatus.BAD_REQUEST, "invalid_request", "JSON object");
		expectRefused("{}", HttpStatus.BAD_REQUEST, "invalid_request", "consumerId is required");
		expectRefused("{\"consumerId\":\"   \"}", HttpStatus.BAD_REQUEST, "invalid_request", "must not be blank");
		expectRefused("{\"consumerId\":42}", HttpStatus.BAD_REQUEST, "invalid_request", "consumerId must be a string");
		expectRefused("{\"consumerId\":\"" + "x".repeat(129) + "\"}", HttpStatus.BAD_REQUEST, "invalid_request",
				"at most 128");
		expectRefused("{" + c + ",\"name\":\"" + "n".repeat(201) + "\"}", HttpStatus.BAD_REQUEST, "invalid_request",
				"name must be at most 200");
		expectRefused("{" + c + ",\"scopes\":\"read\"}", HttpStatus.BAD_REQUEST, "invalid_request", "array of strings");
		expectRefused("{" + c + ",\"scopes\":[1]}", HttpStatus.BAD_REQUEST, "invalid_request", "array of strings");
		expectRefused("{" + c + ",\"scopes\":[\"a\",\"b\",\"c\",\"d\"]}", HttpStatus.BAD_REQUEST, "invalid_request",
				"at most 3 scopes");
		expectRefused("{" + c + ",\"scopes\":[\"a,b\"]}", HttpStatus.BAD_REQUEST, "invalid_request", "not valid");
		expectRefused("{" + c + ",\"expiresAt\":\"2001-01-01T00:00:00Z\"}", HttpStatus.BAD_REQUEST, "invalid_request",
				"in the future");
		expectRefused("{" + c + ",\"expiresAt\":\"tomorrow\"}", HttpStatus.BAD_REQUEST, "invalid_request", "ISO-8601");
		expectRefused("{" + c + ",\"metadata\":[1,2]}", HttpStatus.BAD_REQUEST, "invalid_request", "JSON object");
		expectRefused("{" + c + ",\"owner\":\"x\"}", HttpStatus.BAD_REQUEST, "invalid_request", "unknown field 'owner'");
		expectRefused("{" + c + "," + c + "}", HttpStatus.BAD_REQUEST, "invalid_request", "not valid JSON");
		expectRefused("{" + c + ",\"metadata\":" + "{\"a\":".repeat(40) + "1" + "}".repeat(40) + "}",
				HttpStatus.BAD_REQUEST, "invalid_request", "not valid JSON");
		expectRefused("{" + c + ",\"name\":\"" + "n".repeat(70_000) + "\"}", HttpStatus.CONTENT_TOO_LARGE,
				"request_too_large", "at most");
		this.admin.client().post().contentType(MediaType.TEXT_PLAIN).bodyValue("{" + c + "}").exchange()
			.expectStatus().isEqualTo(HttpStatus.UNSUPPORTED_MEDIA_TYPE)
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "unsupported_media_type"));
		assertThat(keysOf(this.consumer)).isEmpty();
	}

	@Test
	void unknownAndMalformedIdsAreClearErrors() {
		String unknown = UUID.randomUUID().toString();
		this.admin.client().get().uri("/{id}", unknown).exchange().expectStatus().isNotFound()
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "not_found"));
		this.admin.client().delete().uri("/{id}", unknown).exchange().expectStatus().isNotFound();
		this.admin.client().get().uri("/not-a-uuid").exchange().expectStatus().isBadRequest()
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("message", "id must be a UUID"));
		this.admin.client().get().uri("?size=0").exchange().expectStatus().isBadRequest();
		this.admin.client().get().uri("?page=-1").exchange().expectStatus().isBadRequest();
		this.admin.client().get().uri("?size=abc").exchange().expectStatus().isBadRequest()
			.expectBody(JSON).value((body) -> assertThat((String) body.get("message")).contains("size must be"));
	}

	@Test
	void everyCallNeedsTheAdminToken() {
		String id = (String) this.admin.create(this.consumer, List.of()).get("id");
		List<WebTestClient.RequestHeadersSpec<?>> calls = List.of(this.anonymous.get(), this.anonymous.get().uri("/{id}", id),
				this.anonymous.delete().uri("/{id}", id),
				this.anonymous.post().contentType(MediaType.APPLICATION_JSON).bodyValue("{\"consumerId\":\"x\"}"));
		for (WebTestClient.RequestHeadersSpec<?> call : calls) {
			call.exchange().expectStatus().isUnauthorized()
				.expectHeader().valueEquals("WWW-Authenticate", "Bearer realm=\"keyauth-admin\"")
				.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "unauthorized"));
		}
		for (String wrong : List.of("Bearer wrong", "Bearer " + KeyAuthEndToEndTest.ADMIN_TOKEN + "x",
				"Basic " + KeyAuthEndToEndTest.ADMIN_TOKEN, KeyAuthEndToEndTest.ADMIN_TOKEN)) {
			this.anonymous.get().header("Authorization", wrong).exchange().expectStatus().isUnauthorized();
		}
		this.anonymous.delete().uri("/{id}", id).header("Authorization", "Bearer nope").exchange()
			.expectStatus().isUnauthorized();
		this.admin.client().get().uri("/{id}", id).exchange().expectBody(JSON)
			.value((body) -> assertThat(body).containsEntry("status", "active"));
	}

	@Test
	void expiredKeysAreListedAsExpired() throws InterruptedException {
		String id = (String) this.admin
			.create(Map.of("consumerId", this.consumer, "expiresAt", Instant.now().plusMillis(300).toString()))
			.get("id");
		Thread.sleep(400);
		this.admin.client().get().uri("/{id}", id).exchange().expectBody(JSON)
			.value((body) -> assertThat(body).containsEntry("status", "expired"));
	}

}
