package dev.keyauth.e2e;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.test.AdminClient;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.Instances;
import dev.keyauth.test.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Key lifecycle (expiry, rotation, disable, update, per-consumer revocation), route policy
 * (scopes, anonymous, preflight, query keys), rate limits and usage, end to end on real
 * PostgreSQL and Redis.
 */
@SpringBootTest(classes = MinimalGatewayApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "keyauth.admin.token=" + LifecycleAndPolicyTest.TOKEN,
				"keyauth.usage.flush-interval=500ms" })
class LifecycleAndPolicyTest {

	static final String TOKEN = "lifecycle-token";

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	static final EchoUpstream upstream = new EchoUpstream();

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		TestServices.register(registry);
		route(registry, 0, "echo", Map.of());
		route(registry, 1, "scoped", Map.of("scopes", "orders:read,orders:write"));
		route(registry, 2, "anon", Map.of("anonymous-consumer", "guest"));
		route(registry, 3, "query", Map.of("query-param", "api_key"));
		route(registry, 4, "limited", Map.of("rate-limit.requests-per-second", "2", "rate-limit.burst", "2"));
		// "scope" for "scopes": read leniently, this route would let any key through.
		route(registry, 5, "misspelt", Map.of("scope", "orders:admin"));
		route(registry, 6, "anon-limited", Map.of("anonymous-consumer", "guest", "rate-limit.requests-per-second", "1",
				"rate-limit.burst", "1"));
		// The gateway's own RequestRateLimiter, with no key-resolver: the plugin's is the default.
		route(registry, 7, "scg-limited", Map.of());
		String filter = "spring.cloud.gateway.server.webflux.routes[7].filters[0].";
		registry.add(filter + "name", () -> "RequestRateLimiter");
		registry.add(filter + "args.redis-rate-limiter.replenishRate", () -> "1");
		registry.add(filter + "args.redis-rate-limiter.burstCapacity", () -> "1");
		// Room for a slow machine's first script calls: a check that times out lets its request
		// through uncounted, and the counts below would be off.
		registry.add("keyauth.rate-limit.timeout", () -> "2s");
	}

	private static void route(DynamicPropertyRegistry registry, int index, String id, Map<String, String> keyauth) {
		String prefix = "spring.cloud.gateway.server.webflux.routes[" + index + "].";
		registry.add(prefix + "id", () -> id);
		registry.add(prefix + "uri", upstream::uri);
		registry.add(prefix + "predicates[0]", () -> "Path=/" + id + "/**");
		keyauth.forEach((name, value) -> registry.add(prefix + "metadata.keyauth." + name, () -> value));
	}

	@AfterAll
	static void stop() {
		upstream.close();
	}

	@LocalServerPort
	int port;

	@LocalManagementPort
	int managementPort;

	WebTestClient proxy;

	AdminClient admin;

	String consumer;

	@BeforeEach
	void setUp() {
		this.proxy = WebTestClient.bindToServer()
			.baseUrl("http://127.0.0.1:" + this.port)
			.responseTimeout(Duration.ofSeconds(10))
			.build();
		this.admin = new AdminClient(this.managementPort, TOKEN);
		this.consumer = "lifecycle-" + UUID.randomUUID();
		upstream.clear();
	}

	private int status(String path, String key) {
		return this.proxy.get().uri(path).header("X-API-Key", key).exchange().returnResult(Void.class).getStatus()
			.value();
	}

	private Map<String, Object> post(String path, Object body) {
		return this.admin.client().post().uri(path).contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange()
			.expectStatus().is2xxSuccessful().expectBody(JSON).returnResult().getResponseBody();
	}

	private Map<String, Object> get(String id) {
		return this.admin.client().get().uri("/{id}", id).exchange().expectStatus().isOk().expectBody(JSON)
			.returnResult().getResponseBody();
	}

	@Test
	void aTtlSetsTheExpiryAndKeysCloseToItSayWhen() {
		Map<String, Object> soon = this.admin.create(Map.of("consumerId", this.consumer, "ttl", "P2D"));
		Instant expiresAt = Instant.parse((String) soon.get("expiresAt"));
		assertThat(expiresAt).isBetween(Instant.now().plus(Duration.ofHours(47)), Instant.now().plus(Duration.ofDays(2)));
		this.proxy.get().uri("/echo/x").header("X-API-Key", (String) soon.get("key")).exchange()
			.expectStatus().isOk().expectHeader().valueEquals("X-Api-Key-Expires", expiresAt.toString());

		Map<String, Object> later = this.admin.create(Map.of("consumerId", this.consumer, "ttl", "P30D"));
		this.proxy.get().uri("/echo/x").header("X-API-Key", (String) later.get("key")).exchange()
			.expectStatus().isOk().expectHeader().doesNotExist("X-Api-Key-Expires");
		this.admin.client().post().contentType(MediaType.APPLICATION_JSON)
			.bodyValue(Map.of("consumerId", "x", "ttl", "P1D", "expiresAt", "2099-01-01T00:00:00Z")).exchange()
			.expectStatus().isBadRequest();
		this.admin.client().post().contentType(MediaType.APPLICATION_JSON)
			.bodyValue(Map.of("consumerId", "x", "ttl", "one day")).exchange().expectStatus().isBadRequest();
	}

	@Test
	void rotationIssuesALookalikeKeyAndTheOldOneDiesAfterTheGracePeriod() {
		Map<String, Object> old = this.admin.create(Map.of("consumerId", this.consumer, "name", "ci", "scopes",
				List.of("a"), "metadata", Map.of("team", "x"), "rateLimit", Map.of("requestsPerSecond", 50)));
		String oldKey = (String) old.get("key");
		assertThat(status("/echo/x", oldKey)).isEqualTo(200);

		Map<String, Object> rotated = post("/{id}/rotate".replace("{id}", (String) old.get("id")),
				Map.of("gracePeriod", "PT2S"));
		String newKey = (String) rotated.get("key");
		assertThat(newKey).isNotEqualTo(oldKey);
		assertThat(rotated).containsEntry("consumerId", this.consumer).containsEntry("name", "ci")
			.containsEntry("scopes", List.of("a")).containsEntry("metadata", Map.of("team", "x"))
			.containsEntry("rateLimit", Map.of("requestsPerSecond", 50, "burst", 50))
			.containsEntry("rotatedFrom", old.get("id"));
		assertThat(status("/echo/x", newKey)).isEqualTo(200);
		assertThat(status("/echo/x", oldKey)).as("within the grace period").isEqualTo(200);
		Instant previousExpires = Instant.parse((String) rotated.get("previousKeyExpiresAt"));
		Instances.sleep(Math.max(0, previousExpires.toEpochMilli() - System.currentTimeMillis() + 50));
		assertThat(status("/echo/x", oldKey)).isEqualTo(401);
		assertThat(status("/echo/x", newKey)).isEqualTo(200);

		Map<String, Object> immediate = post("/{id}/rotate".replace("{id}", (String) rotated.get("id")),
				Map.of("gracePeriod", "PT0S"));
		assertThat(status("/echo/x", newKey)).as("zero grace").isEqualTo(401);
		assertThat(status("/echo/x", (String) immediate.get("key"))).isEqualTo(200);
		this.admin.client().post().uri("/{id}/rotate", old.get("id")).exchange().expectStatus().isEqualTo(409);
	}

	@Test
	void disablingIsReversibleAndLooksLikeAnUnknownKey() {
		Map<String, Object> created = this.admin.create(this.consumer, List.of());
		String key = (String) created.get("key");
		String id = (String) created.get("id");
		assertThat(status("/echo/x", key)).isEqualTo(200);
		assertThat(post("/" + id + "/disable", Map.of())).containsEntry("status", "disabled");
		EntityExchangeResult<byte[]> disabled = this.proxy.get().uri("/echo/x").header("X-API-Key", key).exchange()
			.expectStatus().isUnauthorized().expectBody().returnResult();
		EntityExchangeResult<byte[]> unknown = this.proxy.get().uri("/echo/x").header("X-API-Key", "sk_live_nope")
			.exchange().expectStatus().isUnauthorized().expectBody().returnResult();
		assertThat(disabled.getResponseBody()).isEqualTo(unknown.getResponseBody());
		assertThat(disabled.getResponseHeaders().toSingleValueMap())
			.isEqualTo(unknown.getResponseHeaders().toSingleValueMap());
		assertThat(post("/" + id + "/enable", Map.of())).containsEntry("status", "active");
		assertThat(status("/echo/x", key)).isEqualTo(200);
		this.admin.revoke(id);
		this.admin.client().post().uri("/{id}/enable", id).exchange().expectStatus().isEqualTo(409);
	}

	@Test
	void updatesChangeEverythingButTheSecretAndTakeEffectAtOnce() {
		Map<String, Object> created = this.admin.create(this.consumer, List.of("orders:read"));
		String key = (String) created.get("key");
		String id = (String) created.get("id");
		assertThat(status("/scoped/x", key)).isEqualTo(403);
		Map<String, Object> updated = this.admin.client().patch().uri("/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.bodyValue(Map.of("name", "renamed", "scopes", List.of("orders:read", "orders:write"), "metadata",
					Map.of("v", 2), "rateLimit", Map.of("requestsPerSecond", 100, "burst", 200)))
			.exchange().expectStatus().isOk().expectBody(JSON).returnResult().getResponseBody();
		assertThat(updated).containsEntry("name", "renamed").containsEntry("metadata", Map.of("v", 2))
			.containsEntry("rateLimit", Map.of("requestsPerSecond", 100, "burst", 200));
		assertThat(status("/scoped/x", key)).isEqualTo(200);
		assertThat(upstream.take().headers().getFirst("X-Api-Key-Scopes")).isEqualTo("orders:read,orders:write");
		this.admin.client().patch().uri("/{id}", id).contentType(MediaType.APPLICATION_JSON)
			.bodyValue(Map.of("expiresAt", Instant.now().plusMillis(500).toString())).exchange().expectStatus().isOk();
		Instances.sleep(700);
		assertThat(status("/scoped/x", key)).isEqualTo(401);
		this.admin.client().patch().uri("/{id}", id).contentType(MediaType.APPLICATION_JSON)
			.bodyValue(Map.of("consumerId", "thief")).exchange().expectStatus().isBadRequest();
		this.admin.client().patch().uri("/{id}", id).contentType(MediaType.APPLICATION_JSON)
			.bodyValue(Map.of()).exchange().expectStatus().isBadRequest();
	}

	@Test
	void aConsumersKeysAreListedAndRevokedTogether() {
		String a = (String) this.admin.create(this.consumer, List.of()).get("key");
		String b = (String) this.admin.create(this.consumer, List.of()).get("key");
		String other = (String) this.admin.create("other-" + UUID.randomUUID(), List.of()).get("key");
		assertThat(status("/echo/x", a)).isEqualTo(200);
		Map<String, Object> result = this.admin.client().delete().uri("?consumerId={c}", this.consumer).exchange()
			.expectStatus().isOk().expectBody(JSON).returnResult().getResponseBody();
		assertThat(result).containsEntry("revoked", 2);
		assertThat(status("/echo/x", a)).isEqualTo(401);
		assertThat(status("/echo/x", b)).isEqualTo(401);
		assertThat(status("/echo/x", other)).isEqualTo(200);
		this.admin.client().delete().exchange().expectStatus().isBadRequest();
	}

	@Test
	void aKeyLackingARequiredScopeIs403NamingTheScopes() {
		String reader = (String) this.admin.create(this.consumer, List.of("orders:read")).get("key");
		this.proxy.get().uri("/scoped/x").header("X-API-Key", reader).exchange()
			.expectStatus().isForbidden()
			.expectHeader().valueEquals("WWW-Authenticate",
					"Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"orders:read orders:write\"")
			.expectBody(JSON).value((body) -> {
				assertThat(body).containsEntry("error", "insufficient_scope");
				assertThat(body).containsEntry("required", List.of("orders:read", "orders:write"));
			});
		String writer = (String) this.admin.create(this.consumer, List.of("orders:write", "orders:read", "x"))
			.get("key");
		assertThat(status("/scoped/x", writer)).isEqualTo(200);
		assertThat(upstream.hasReceived()).isTrue();
	}

	@Test
	void aRouteWhoseSettingsCannotBeReadRefusesEveryRequestAndTheOthersCarryOn() {
		String key = (String) this.admin.create(this.consumer, List.of("orders:read")).get("key");
		for (String presented : List.of(key, "sk_live_invalid", "")) {
			this.proxy.get().uri("/misspelt/x").header("X-API-Key", presented).exchange()
				.expectStatus().isEqualTo(500)
				.expectHeader().contentType(MediaType.APPLICATION_JSON)
				.expectBody(JSON).value((body) -> {
					assertThat(body).containsEntry("error", "route_misconfigured");
					// The configuration stays in the gateway's log, not in what callers see.
					assertThat((String) body.get("message")).doesNotContain("scope");
				});
		}
		assertThat(upstream.hasReceived()).isFalse();
		assertThat(status("/echo/x", key)).isEqualTo(200);
	}

	@Test
	void anAnonymousRoutePassesKeylessRequestsAsItsConsumerButNotBadKeys() {
		this.proxy.get().uri("/anon/x").header("X-Consumer-Id", "admin").header("X-Anonymous-Consumer", "false")
			.exchange().expectStatus().isOk();
		EchoUpstream.Received anonymous = upstream.take();
		assertThat(anonymous.headers().get("X-Consumer-Id")).containsExactly("guest");
		assertThat(anonymous.headers().get("X-Anonymous-Consumer")).containsExactly("true");
		assertThat(anonymous.headers().containsHeader("X-Api-Key-Id")).isFalse();

		assertThat(status("/anon/x", "sk_live_invalid")).isEqualTo(401);
		String key = (String) this.admin.create(this.consumer, List.of()).get("key");
		this.proxy.get().uri("/anon/x").header("X-API-Key", key).header("X-Anonymous-Consumer", "true").exchange()
			.expectStatus().isOk();
		EchoUpstream.Received known = upstream.take();
		assertThat(known.headers().getFirst("X-Consumer-Id")).isEqualTo(this.consumer);
		assertThat(known.headers().containsHeader("X-Anonymous-Consumer")).isFalse();
	}

	@Test
	void corsPreflightsAreAnsweredByTheGatewayWithoutAKeyAndNeverForwarded() {
		// Spring Cloud Gateway's handler mapping answers preflights from its CORS configuration
		// before any global filter runs; they carry no key and must not need one.
		this.proxy.method(HttpMethod.OPTIONS).uri("/echo/x").header("Origin", "https://app.example")
			.header("Access-Control-Request-Method", "POST").exchange().expectStatus().isOk();
		assertThat(upstream.hasReceived()).isFalse();
		// An OPTIONS request that is not a preflight is an ordinary request: it needs a key.
		this.proxy.method(HttpMethod.OPTIONS).uri("/echo/x").header("Origin", "https://app.example").exchange()
			.expectStatus().isUnauthorized();
	}

	@Test
	void queryKeysWorkOnlyWhereEnabledAndAreRemovedFromTheForwardedUri() {
		String key = (String) this.admin.create(this.consumer, List.of()).get("key");
		this.proxy.get().uri((builder) -> builder.path("/query/search").build())
			.exchange().expectStatus().isUnauthorized();
		this.proxy.get().uri(java.net.URI.create("http://127.0.0.1:" + this.port + "/query/search?b=2&api_key=" + key
				+ "&a=%20x%2By&api_key=" + key + "&z"))
			.exchange().expectStatus().isOk();
		EchoUpstream.Received received = upstream.take();
		assertThat(received.uri()).isEqualTo("/query/search?b=2&a=%20x%2By&z");
		assertThat(received.headers().getFirst("X-Consumer-Id")).isEqualTo(this.consumer);
		this.proxy.get().uri(java.net.URI.create("http://127.0.0.1:" + this.port + "/echo/x?api_key=" + key))
			.exchange().expectStatus().isUnauthorized();
	}

	@Test
	void keysAndRoutesAreRateLimitedWith429() {
		String limited = (String) this.admin.create(Map.of("consumerId", this.consumer, "rateLimit",
				Map.of("requestsPerSecond", 1, "burst", 2))).get("key");
		this.proxy.get().uri("/echo/x").header("X-API-Key", limited).exchange().expectStatus().isOk()
			.expectHeader().valueEquals("X-RateLimit-Burst-Capacity", "2")
			.expectHeader().valueEquals("X-RateLimit-Replenish-Rate", "1")
			.expectHeader().valueEquals("X-RateLimit-Requested-Tokens", "1");
		long start = System.nanoTime();
		int allowed = 1;
		EntityExchangeResult<byte[]> refused = null;
		for (int i = 0; i < 8; i++) {
			EntityExchangeResult<byte[]> result = this.proxy.get().uri("/echo/x").header("X-API-Key", limited)
				.exchange().expectBody().returnResult();
			if (result.getStatus().value() == 200) {
				allowed++;
			}
			else if (refused == null) {
				refused = result;
			}
		}
		long seconds = (System.nanoTime() - start) / 1_000_000_000 + 1;
		// The bucket holds 2 and refills 1 per (whole) second: 9 quick requests cannot all pass.
		assertThat(allowed).isLessThanOrEqualTo(2 + (int) seconds + 1);
		assertThat(refused).isNotNull();
		assertThat(refused.getStatus().value()).isEqualTo(429);
		assertThat(refused.getResponseHeaders().getFirst("Retry-After")).isEqualTo("1");
		assertThat(refused.getResponseHeaders().getFirst("X-RateLimit-Remaining")).isEqualTo("0");
		assertThat(new String(refused.getResponseBody())).contains("\"error\":\"rate_limited\"");

		String unlimited = (String) this.admin.create(this.consumer, List.of()).get("key");
		int refusedOnRoute = 0;
		for (int i = 0; i < 8; i++) {
			refusedOnRoute += (status("/limited/x", unlimited) == 429) ? 1 : 0;
		}
		assertThat(refusedOnRoute).as("the route allows 2 per second per key").isGreaterThanOrEqualTo(1);
		assertThat(status("/echo/x", unlimited)).as("other routes are not limited for this key").isEqualTo(200);
	}

	@Test
	void aLimitedRouteHoldsItsAnonymousRequestsToTheLimitTooInOneBucket() {
		int allowed = 0;
		EntityExchangeResult<byte[]> refused = null;
		long start = System.nanoTime();
		for (int i = 0; i < 6; i++) {
			EntityExchangeResult<byte[]> result = this.proxy.get().uri("/anon-limited/x").exchange().expectBody()
				.returnResult();
			if (result.getStatus().value() == 200) {
				allowed++;
			}
			else if (refused == null) {
				refused = result;
			}
		}
		long seconds = (System.nanoTime() - start) / 1_000_000_000 + 1;
		// One bucket of 1, refilled once a second, for every keyless caller together.
		assertThat(allowed).isBetween(1, 1 + (int) seconds);
		assertThat(refused).isNotNull();
		assertThat(refused.getStatus().value()).isEqualTo(429);
		assertThat(new String(refused.getResponseBody())).contains("without an API key");
		// A key is counted in a bucket of its own on the route, not in the anonymous one.
		String key = (String) this.admin.create(this.consumer, List.of()).get("key");
		assertThat(status("/anon-limited/x", key)).isEqualTo(200);
	}

	@Test
	void theGatewaysOwnRequestRateLimiterCountsPerKeyWithNoKeyResolverConfigured() {
		String first = (String) this.admin.create(this.consumer, List.of()).get("key");
		String second = (String) this.admin.create(this.consumer, List.of()).get("key");
		int allowed = 0;
		long start = System.nanoTime();
		for (int i = 0; i < 5; i++) {
			allowed += (status("/scg-limited/x", first) == 200) ? 1 : 0;
		}
		long seconds = (System.nanoTime() - start) / 1_000_000_000 + 1;
		assertThat(allowed).isBetween(1, 1 + (int) seconds);
		// Another key has a bucket of its own (the gateway's default resolver, by principal name,
		// would have found no name and refused every request with 403).
		assertThat(status("/scg-limited/x", second)).isEqualTo(200);
	}

	@Test
	void usageIsCountedWithoutAWritePerRequest() {
		Map<String, Object> created = this.admin.create(this.consumer, List.of());
		for (int i = 0; i < 7; i++) {
			assertThat(status("/echo/x", (String) created.get("key"))).isEqualTo(200);
		}
		Instances.await(5000, () -> ((Number) get((String) created.get("id")).get("requestCount")).intValue() == 7);
		Map<String, Object> view = get((String) created.get("id"));
		assertThat(Instant.parse((String) view.get("lastUsedAt"))).isAfter(Instant.now().minusSeconds(30));
	}

}
