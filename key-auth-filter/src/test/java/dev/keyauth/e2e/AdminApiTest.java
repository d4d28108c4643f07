package dev.keyauth.e2e;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.test.AdminClient;
import dev.keyauth.test.TestPostgres;
import dev.keyauth.test.TestServices;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin API on the management port against real PostgreSQL: what it returns, what it
 * refuses, and that a refused request stores nothing.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = MinimalGatewayApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "keyauth.admin.token=" + KeyAuthEndToEndTest.ADMIN_TOKEN,
				"keyauth.admin.max-scopes=3" })
class AdminApiTest {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		TestServices.register(registry);
	}

	@LocalManagementPort
	int managementPort;

	@Autowired
	DatabaseClient database;

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
		// The parser's message, where it is, and not Jackson's description of its (redacted) source.
		expectRefused("{\n\"consumerId\": x}", HttpStatus.BAD_REQUEST, "invalid_request",
				"Unrecognized token 'x'");
		expectRefused("{\n\"consumerId\": x}", HttpStatus.BAD_REQUEST, "invalid_request", "(line 2, column ");
		post("{\"consumerId\":\"a\"").expectStatus().isBadRequest().expectBody(JSON).value((response) -> assertThat(
				(String) response.get("message")).contains("expected close marker for Object").doesNotContain("Source"));
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

	private WebTestClient.ResponseSpec identify(String body) {
		return this.admin.client().post().uri("/identify").contentType(MediaType.APPLICATION_JSON).bodyValue(body)
			.exchange();
	}

	@Test
	void aRawKeyIsIdentifiedWhateverItsStateAndNeverEchoed() {
		Map<String, Object> created = this.admin.create(this.consumer, List.of("a"));
		String key = (String) created.get("key");
		String id = (String) created.get("id");
		// Pasted with the whitespace around it.
		String found = identify("{\"key\":\" " + key + "\\n\"}").expectStatus().isOk()
			.expectHeader().valueEquals("Cache-Control", "no-store")
			.expectBody(String.class).returnResult().getResponseBody();
		assertThat(found).contains("\"id\":\"" + id + "\"").contains("\"status\":\"active\"")
			.contains(this.consumer).doesNotContain(key).doesNotContain(key.substring(12, 30));
		this.admin.revoke(id);
		identify("{\"key\":\"" + key + "\"}").expectStatus().isOk().expectBody(JSON)
			.value((view) -> assertThat(view).containsEntry("id", id).containsEntry("status", "revoked"));
	}

	@Test
	void identifyingSomethingThatIsNoKeyIsAClearError() {
		String unknown = new ApiKeyGenerator(new ApiKeyFormat(ApiKeyFormat.DEFAULT_PREFIX)).generateKey();
		identify("{\"key\":\"" + unknown + "\"}").expectStatus().isNotFound().expectBody(JSON).value((body) -> {
			assertThat(body).containsEntry("error", "not_found");
			assertThat(body.toString()).doesNotContain(unknown);
		});
		// One character changed: the checksum no longer matches.
		String typo = unknown.substring(0, 20) + (unknown.charAt(20) == 'a' ? 'b' : 'a') + unknown.substring(21);
		identify("{\"key\":\"" + typo + "\"}").expectStatus().isBadRequest().expectBody(JSON).value((body) -> {
			assertThat((String) body.get("message")).contains("prefix, length or checksum");
			assertThat(body.toString()).doesNotContain(typo);
		});
		// Pasted without quotes: not JSON, and the parser's message, which would quote it, is left out.
		identify("{\"key\":" + unknown + "}").expectStatus().isBadRequest().expectBody(JSON).value((body) -> {
			assertThat((String) body.get("message")).contains("not valid JSON");
			assertThat(body.toString()).doesNotContain(unknown).doesNotContain(unknown.substring(8, 30));
		});
		identify("{}").expectStatus().isBadRequest().expectBody(JSON)
			.value((body) -> assertThat(body).containsEntry("message", "key is required"));
		identify("{\"key\":42}").expectStatus().isBadRequest().expectBody(JSON)
			.value((body) -> assertThat(body).containsEntry("message", "key must be a string"));
		identify("{\"key\":\"" + unknown + "\",\"id\":\"x\"}").expectStatus().isBadRequest();
		this.admin.client().post().uri("/identify").contentType(MediaType.TEXT_PLAIN).bodyValue(unknown).exchange()
			.expectStatus().isEqualTo(HttpStatus.UNSUPPORTED_MEDIA_TYPE);
		// Never by URL, which access logs keep: only POST is served there.
		this.admin.client().get().uri("/identify").exchange().expectStatus().isEqualTo(HttpStatus.METHOD_NOT_ALLOWED)
			.expectHeader().valueEquals("Allow", "POST, OPTIONS");
		this.anonymous.post().uri("/identify").contentType(MediaType.APPLICATION_JSON)
			.bodyValue("{\"key\":\"" + unknown + "\"}").exchange().expectStatus().isUnauthorized();
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
	void aConsumerFilterNoKeyCouldHaveIsA400NotAQuery() {
		// PostgreSQL refuses a NUL in text: before the filter was checked, that was a 503.
		for (String consumerId : List.of("a\u0000b", "x".repeat(129), "caf\u00e9")) {
			this.admin.client().get().uri((uri) -> uri.queryParam("consumerId", "{c}").build(consumerId)).exchange()
				.expectStatus().isBadRequest()
				.expectBody(JSON).value((body) -> assertThat((String) body.get("message")).startsWith("consumerId must"));
			this.admin.client().delete().uri((uri) -> uri.queryParam("consumerId", "{c}").build(consumerId)).exchange()
				.expectStatus().isBadRequest();
		}
		this.admin.create(this.consumer, List.of());
		// A parameter without a value filters nothing, like an empty one; revoking needs a consumer.
		this.admin.client().get().uri("?consumerId").exchange().expectStatus().isOk();
		this.admin.client().delete().uri("?consumerId").exchange().expectStatus().isBadRequest()
			.expectBody(JSON).value((body) -> assertThat((String) body.get("message")).contains("consumerId is required"));
		assertThat(keysOf(this.consumer)).hasSize(1);
	}

	@Test
	void callsTheApiDoesNotServeAreJsonErrorsBehindTheToken() {
		String id = (String) this.admin.create(this.consumer, List.of()).get("id");
		this.admin.client().put().contentType(MediaType.APPLICATION_JSON).bodyValue("{}").exchange()
			.expectStatus().isEqualTo(HttpStatus.METHOD_NOT_ALLOWED)
			.expectHeader().valueEquals("Allow", "GET, HEAD, POST, DELETE, OPTIONS")
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "method_not_allowed"));
		this.admin.client().post().uri("/{id}", id).exchange().expectStatus().isEqualTo(HttpStatus.METHOD_NOT_ALLOWED)
			.expectHeader().valueEquals("Allow", "GET, HEAD, PATCH, DELETE, OPTIONS");
		this.admin.client().get().uri("/{id}/rotate", id).exchange().expectStatus().isEqualTo(HttpStatus.METHOD_NOT_ALLOWED)
			.expectHeader().valueEquals("Allow", "POST, OPTIONS");
		this.admin.client().options().uri("/{id}/disable", id).exchange().expectStatus().isNoContent()
			.expectHeader().valueEquals("Allow", "POST, OPTIONS");
		for (String path : List.of("/" + id + "/frobnicate", "/" + id + "/rotate/x", "/")) {
			this.admin.client().post().uri(path).exchange().expectStatus().isNotFound()
				.expectHeader().contentType(MediaType.APPLICATION_JSON)
				.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "not_found"));
		}
		// HEAD is served wherever GET is, without a body.
		this.admin.client().head().uri("/{id}", id).exchange().expectStatus().isOk().expectBody().isEmpty();
		this.admin.client().head().exchange().expectStatus().isOk();
		// None of this is answered, not even with a 404 or 405, without the token.
		for (WebTestClient.RequestHeadersSpec<?> call : List.of(this.anonymous.put(), this.anonymous.post().uri("/{id}", id),
				this.anonymous.get().uri("/{id}/frobnicate", id), this.anonymous.head().uri("/{id}", id))) {
			call.exchange().expectStatus().isUnauthorized();
		}
		// A refused call changed nothing.
		this.admin.client().get().uri("/{id}", id).exchange().expectBody(JSON)
			.value((body) -> assertThat(body).containsEntry("status", "active"));
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

	/**
	 * Bodies no client should send. Each is refused with a 4xx and a JSON error, and nothing is
	 * stored for the consumer named in it (where a valid one is named at all).
	 */
	@Test
	void hostileBodiesAreRefusedWithAJsonErrorAndStoreNothing() {
		String c = "\"consumerId\":\"" + this.consumer + "\"";
		List<String> bodies = List.of(
				// deep nesting, in arrays and objects, far beyond what the parser accepts
				"[".repeat(5000) + "]".repeat(5000), "{" + c + ",\"metadata\":" + "{\"a\":".repeat(3000) + "1"
						+ "}".repeat(3000) + "}",
				"{" + c + ",\"scopes\":" + "[".repeat(3000) + "]".repeat(3000) + "}",
				// huge strings and arrays, under and over the body limit
				"{" + c + ",\"scopes\":[" + "\"s\",".repeat(5000) + "\"s\"]}",
				"{" + c + ",\"scopes\":[" + "\"s\",".repeat(100_000) + "\"s\"]}",
				"{" + c + ",\"metadata\":{\"k\":\"" + "v".repeat(20_000) + "\"}}",
				"{\"consumerId\":\"" + "c".repeat(60_000) + "\"}",
				// wrong types in every field
				"{\"consumerId\":null}", "{\"consumerId\":[\"" + this.consumer + "\"]}", "{\"consumerId\":{}}",
				"{\"consumerId\":true}", "{" + c + ",\"name\":5}", "{" + c + ",\"name\":[\"n\"]}",
				"{" + c + ",\"scopes\":{\"a\":1}}", "{" + c + ",\"scopes\":[null]}", "{" + c + ",\"scopes\":[[\"a\"]]}",
				"{" + c + ",\"expiresAt\":1893456000}", "{" + c + ",\"expiresAt\":{}}", "{" + c + ",\"ttl\":86400}",
				"{" + c + ",\"metadata\":\"x\"}", "{" + c + ",\"metadata\":7}", "{" + c + ",\"rateLimit\":\"fast\"}",
				"{" + c + ",\"rateLimit\":{\"requestsPerSecond\":\"10\"}}",
				"{" + c + ",\"rateLimit\":{\"requestsPerSecond\":1.5}}",
				"{" + c + ",\"rateLimit\":{\"requestsPerSecond\":-1}}",
				"{" + c + ",\"rateLimit\":{\"requestsPerSecond\":9223372036854775808}}",
				"{" + c + ",\"rateLimit\":{\"requestsPerSecond\":1e309}}",
				"{" + c + ",\"rateLimit\":{\"requestsPerSecond\":10,\"burst\":5}}",
				"{" + c + ",\"rateLimit\":{\"requestsPerSecond\":10,\"window\":5}}",
				// bad dates and durations
				"{" + c + ",\"expiresAt\":\"2099-02-30T00:00:00Z\"}", "{" + c + ",\"expiresAt\":\"2099-01-01\"}",
				"{" + c + ",\"expiresAt\":\"2099-01-01T25:00:00Z\"}", "{" + c + ",\"expiresAt\":\"+999999999-01-01T00:00:00Z\"}",
				"{" + c + ",\"expiresAt\":\"\"}", "{" + c + ",\"ttl\":\"P-1D\"}", "{" + c + ",\"ttl\":\"PT0S\"}",
				"{" + c + ",\"ttl\":\"forever\"}", "{" + c + ",\"ttl\":\"P999999999D\"}",
				"{" + c + ",\"ttl\":\"P1D\",\"expiresAt\":\"2099-01-01T00:00:00Z\"}",
				// not JSON, or more than one JSON value
				"{" + c + "} {\"consumerId\":\"other\"}", "{" + c + "}]", "{" + c + ",}", "{'consumerId':'x'}",
				"{consumerId:\"x\"}", "{" + c + " /* comment */}", "{" + c + ",\"rateLimit\":{\"requestsPerSecond\":NaN}}",
				"", "null", "\"" + this.consumer + "\"", "{" + c + ",\"name\":\"\\ud800\"}",
				// unknown and duplicate fields, including ones that would matter if they were honoured
				"{" + c + ",\"id\":\"00000000-0000-0000-0000-000000000001\"}", "{" + c + ",\"keyHash\":\"00\"}",
				"{" + c + ",\"key\":\"sk_live_chosen\"}", "{" + c + ",\"revokedAt\":null}",
				"{" + c + ",\"scopes\":[],\"scopes\":[\"admin\"]}", "{" + c + ",\"__proto__\":{\"admin\":true}}");
		for (String body : bodies) {
			WebTestClient.ResponseSpec response = post(body);
			response.expectStatus().value((status) -> assertThat(status).as(abbreviate(body)).isBetween(400, 499))
				.expectHeader().contentType(MediaType.APPLICATION_JSON)
				.expectBody(JSON).value((error) -> {
					assertThat(error).as(abbreviate(body)).containsKeys("error", "message");
					assertThat((String) error.get("message")).isNotBlank().doesNotContain("Exception");
				});
		}
		assertThat(keysOf(this.consumer)).isEmpty();
	}

	@Test
	void hostileUpdatesAndRotationsAreRefusedAndChangeNothing() {
		Map<String, Object> created = this.admin.create(Map.of("consumerId", this.consumer, "name", "before",
				"scopes", List.of("a")));
		String id = (String) created.get("id");
		List<String> updates = List.of("{\"name\":5}", "{\"scopes\":\"admin\"}", "{\"consumerId\":\"someone-else\"}",
				"{\"expiresAt\":\"yesterday\"}", "{\"ttl\":\"P-1D\"}", "{\"metadata\":[]}", "{\"name\":\"x\",}",
				"{\"status\":\"active\"}", "{\"revokedAt\":null}", "{\"name\":\"after\",\"name\":\"again\"}",
				"{\"metadata\":" + "{\"a\":".repeat(3000) + "1" + "}".repeat(3000) + "}", "[]", "");
		for (String body : updates) {
			this.admin.client().patch().uri("/{id}", id).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
				.exchange()
				.expectStatus().value((status) -> assertThat(status).as(abbreviate(body)).isBetween(400, 499))
				.expectBody(JSON).value((error) -> assertThat(error).as(abbreviate(body)).containsKey("error"));
		}
		List<String> rotations = List.of("{\"gracePeriod\":\"forever\"}", "{\"gracePeriod\":\"-PT1H\"}",
				"{\"gracePeriod\":3600}", "{\"gracePeriod\":\"P99999D\"}", "{\"ttl\":\"P0D\"}",
				"{\"expiresAt\":\"2001-01-01T00:00:00Z\"}", "{\"keepOld\":true}", "{\"gracePeriod\":null,}");
		for (String body : rotations) {
			this.admin.client().post().uri("/{id}/rotate", id).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
				.exchange()
				.expectStatus().value((status) -> assertThat(status).as(abbreviate(body)).isBetween(400, 499))
				.expectBody(JSON).value((error) -> assertThat(error).as(abbreviate(body)).containsKey("error"));
		}
		this.admin.client().get().uri("/{id}", id).exchange().expectStatus().isOk().expectBody(JSON)
			.value((view) -> assertThat(view).containsEntry("name", "before").containsEntry("scopes", List.of("a"))
				.containsEntry("status", "active").containsEntry("consumerId", this.consumer)
				.containsEntry("expiresAt", created.get("expiresAt")));
		assertThat(keysOf(this.consumer)).hasSize(1);
	}

	/**
	 * SQL, JSON, template and script text in every free-text field. Text a field allows is stored
	 * and read back exactly as sent (queries are parameterised, JSON is written by a serializer),
	 * and gains nothing: no extra scopes, no other consumer; text it does not allow is a 400 that
	 * stores nothing. The table is intact afterwards.
	 */
	@Test
	void injectionTextIsDataNeverCode() {
		List<String> payloads = List.of("'; DROP TABLE keyauth_api_keys; --", "x' OR '1'='1",
				"\" OR 1=1 --", "x\",\"scopes\":[\"admin\"],\"consumerId\":\"root", "}{\"scopes\":[\"admin\"]}",
				"$(rm -rf /)", "${jndi:ldap://127.0.0.1/a}", "{{7*7}}", "<script>alert(1)</script>", "\\u0000",
				"%27%3B--", "a\u0000b", "line\r\nX-Consumer-Id: root");
		int stored = 0;
		for (String payload : payloads) {
			for (String field : List.of("consumerId", "name", "metadataValue", "metadataKey", "scope")) {
				String consumerId = field.equals("consumerId") ? this.consumer + payload : this.consumer;
				Map<String, Object> body = new java.util.LinkedHashMap<>();
				body.put("consumerId", consumerId);
				if (field.equals("name")) {
					body.put("name", payload);
				}
				if (field.equals("metadataValue")) {
					body.put("metadata", Map.of("k", payload));
				}
				if (field.equals("metadataKey")) {
					body.put("metadata", Map.of(payload, "v"));
				}
				if (field.equals("scope")) {
					body.put("scopes", List.of(payload));
				}
				Map<String, Object> response = this.admin.client().post().contentType(MediaType.APPLICATION_JSON)
					.bodyValue(body).exchange()
					.expectStatus().value((status) -> assertThat(status).as(field + " " + payload).isIn(201, 400))
					.expectBody(JSON).returnResult().getResponseBody();
				if (!response.containsKey("id")) {
					assertThat(response).containsEntry("error", "invalid_request");
					continue;
				}
				stored++;
				Map<String, Object> view = this.admin.client().get().uri("/{id}", response.get("id")).exchange()
					.expectStatus().isOk().expectBody(JSON).returnResult().getResponseBody();
				assertThat(view.get("consumerId")).as(field + " " + payload).isEqualTo(consumerId);
				assertThat(view.get("scopes")).isEqualTo(body.getOrDefault("scopes", List.of()));
				assertThat(view.get("name")).isEqualTo(body.get("name"));
				assertThat(view.get("metadata")).isEqualTo(body.getOrDefault("metadata", Map.of()));
			}
		}
		assertThat(stored).as("payloads the fields allow were stored").isGreaterThan(20);
		Long rows = this.database.sql("SELECT count(*) AS n FROM keyauth_api_keys WHERE consumer_id LIKE :c")
			.bind("c", this.consumer + "%")
			.map((row) -> row.get("n", Long.class))
			.one()
			.block(Duration.ofSeconds(10));
		assertThat(rows).isEqualTo(stored);
	}

	private static String abbreviate(String body) {
		return (body.length() <= 120) ? body : body.substring(0, 120) + "... (" + body.length() + " chars)";
	}

	@Test
	void everyChangeIsAuditedWithoutTheKey(CapturedOutput output) {
		Map<String, Object> created = this.admin.create(this.consumer, List.of("orders:read"));
		String id = (String) created.get("id");
		String key = (String) created.get("key");
		this.admin.client().patch().uri("/{id}", id).contentType(MediaType.APPLICATION_JSON)
			.bodyValue("{\"name\":\"renamed\"}").exchange().expectStatus().isOk();
		this.admin.client().post().uri("/{id}/disable", id).exchange().expectStatus().isOk();
		this.admin.client().post().uri("/{id}/enable", id).exchange().expectStatus().isOk();
		Map<String, Object> successor = this.admin.client().post().uri("/{id}/rotate", id)
			.contentType(MediaType.APPLICATION_JSON).bodyValue("{\"gracePeriod\":\"PT1H\"}").exchange()
			.expectStatus().isCreated().expectBody(JSON).returnResult().getResponseBody();
		this.admin.revoke(id);
		this.admin.client().delete().uri((uri) -> uri.queryParam("consumerId", this.consumer).build()).exchange()
			.expectStatus().isOk();
		// A read is not a change.
		this.admin.client().get().uri("/{id}", id).exchange().expectStatus().isOk();

		String by = " by=127.0.0.1";
		String prefix = "action=%s key=" + id + " consumer=\"" + this.consumer + "\"";
		assertThat(output.getOut()).contains(prefix.formatted("created") + by, prefix.formatted("updated") + by,
				prefix.formatted("disabled") + by, prefix.formatted("enabled") + by,
				prefix.formatted("rotated") + " successor=" + successor.get("id"),
				prefix.formatted("revoked") + by,
				"action=revoked-all consumer=\"" + this.consumer + "\" count=1" + by);
		assertThat(output.getOut().lines().filter((line) -> line.contains(id) && line.contains("keyauth.audit")))
			.hasSize(6);
		assertThat(output.toString()).doesNotContain(key).doesNotContain((String) successor.get("key"));
	}

}
