package dev.keyauth.e2e;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import dev.keyauth.filter.IdentityHeaders;
import dev.keyauth.test.AdminClient;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.TestPostgres;
import dev.keyauth.test.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.cloud.gateway.filter.NettyRoutingFilter;
import org.springframework.cloud.gateway.filter.headers.HttpHeadersFilter;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.core.annotation.AnnotationAwareOrderComparator;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole product on real PostgreSQL: a gateway application that only adds the dependency,
 * keys created through the admin API on the management port, requests proxied to an in-process
 * downstream service.
 */
@SpringBootTest(classes = { MinimalGatewayApplication.class, KeyAuthEndToEndTest.EarlierWebFilter.class }, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "keyauth.admin.token=" + KeyAuthEndToEndTest.ADMIN_TOKEN })
class KeyAuthEndToEndTest {

	static final String ADMIN_TOKEN = "e2e-admin-token";

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	static final EchoUpstream upstream = new EchoUpstream();

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		TestServices.register(registry);
		TestServices.route(registry, 0, "echo", upstream::uri, "/echo/**");
		String open = TestServices.route(registry, 1, "public", upstream::uri, "/public/**");
		registry.add(open + ".metadata.keyauth.enabled", () -> "false");
	}

	@AfterAll
	static void stopUpstream() {
		upstream.close();
	}

	@LocalServerPort
	int port;

	@LocalManagementPort
	int managementPort;

	@Autowired
	NettyRoutingFilter routing;

	WebTestClient proxy;

	AdminClient admin;

	@BeforeEach
	void clients() {
		this.proxy = WebTestClient.bindToServer()
			.baseUrl("http://127.0.0.1:" + this.port)
			.responseTimeout(Duration.ofSeconds(10))
			.build();
		this.admin = new AdminClient(this.managementPort, ADMIN_TOKEN);
		upstream.clear();
	}

	@Test
	void createCallRevokeWalkThrough() {
		Map<String, Object> created = this.admin.create(Map.of("consumerId", "acme", "name", "ci pipeline", "scopes",
				List.of("orders:read", "orders:write"), "metadata", Map.of("team", "payments")));
		String key = (String) created.get("key");
		String id = (String) created.get("id");
		assertThat(created).containsKeys("id", "key", "keyStart", "consumerId", "name", "scopes", "metadata",
				"createdAt", "expiresAt");
		assertThat(key).startsWith("sk_live_").hasSize(57);
		assertThat((String) created.get("keyStart")).isEqualTo(key.substring(0, 12));
		assertThat(created.get("metadata")).isEqualTo(Map.of("team", "payments"));

		this.proxy.get().uri("/echo/orders?limit=5").header("Authorization", "Bearer " + key).exchange()
			.expectStatus().isOk();
		EchoUpstream.Received received = upstream.take();
		assertThat(received.uri()).isEqualTo("/echo/orders?limit=5");
		assertThat(received.headers().getFirst("X-Consumer-Id")).isEqualTo("acme");
		assertThat(received.headers().getFirst("X-Api-Key-Id")).isEqualTo(id);
		assertThat(received.headers().getFirst("X-Api-Key-Scopes")).isEqualTo("orders:read,orders:write");
		assertThat(received.headers().containsHeader("Authorization")).isFalse();

		this.admin.revoke(id);
		this.proxy.get().uri("/echo/orders").header("Authorization", "Bearer " + key).exchange()
			.expectStatus().isUnauthorized()
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "invalid_api_key"));
		assertThat(upstream.hasReceived()).isFalse();
	}

	@Test
	void theApiKeyHeaderWorksTooAndIsNotForwarded() {
		String key = (String) this.admin.create("globex", List.of()).get("key");
		this.proxy.get().uri("/echo/x").header("X-API-Key", key).exchange().expectStatus().isOk();
		EchoUpstream.Received received = upstream.take();
		assertThat(received.headers().getFirst("X-Consumer-Id")).isEqualTo("globex");
		assertThat(received.headers().containsHeader("X-API-Key")).isFalse();
		assertThat(received.headers().containsHeader("X-Api-Key-Scopes")).isFalse();
	}

	@Test
	void aMissingKeyIsAMissingApiKey401() {
		this.proxy.get().uri("/echo/x").exchange()
			.expectStatus().isUnauthorized()
			.expectHeader().valueEquals(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"api\"")
			.expectHeader().contentType(MediaType.APPLICATION_JSON)
			.expectBody(JSON).value((body) -> {
				assertThat(body).containsEntry("error", "missing_api_key");
				assertThat((String) body.get("message")).contains("Authorization").contains("X-API-Key");
			});
		assertThat(upstream.hasReceived()).isFalse();
	}

	@Test
	void malformedBadChecksumUnknownRevokedAndExpiredKeysGetByteIdenticalResponses() throws InterruptedException {
		String valid = (String) this.admin.create("acme", List.of()).get("key");
		String badChecksum = valid.substring(0, valid.length() - 1) + (valid.endsWith("A") ? "B" : "A");
		Map<String, Object> toRevoke = this.admin.create("acme", List.of());
		this.admin.revoke((String) toRevoke.get("id"));
		Map<String, Object> expiring = this.admin.create(
				Map.of("consumerId", "acme", "expiresAt", Instant.now().plusMillis(1500).toString()));
		String unknown = new dev.keyauth.key.ApiKeyGenerator(new dev.keyauth.key.ApiKeyFormat("sk_live_")).generateKey();
		// The expiring key works until its instant, then is refused like the rest.
		this.proxy.get().uri("/echo/x").header("X-API-Key", (String) expiring.get("key")).exchange()
			.expectStatus().isOk();
		upstream.take();
		Thread.sleep(Math.max(0, Instant.parse((String) expiring.get("expiresAt")).toEpochMilli()
				- System.currentTimeMillis() + 100));

		List<String> refused = List.of("not-a-key", "sk_live_short", badChecksum, unknown, (String) toRevoke.get("key"),
				(String) expiring.get("key"), "sk_live_" + "é".repeat(49));
		List<EntityExchangeResult<byte[]>> results = new ArrayList<>();
		for (String key : refused) {
			results.add(this.proxy.get().uri("/echo/x").header("Authorization", "Bearer " + key).exchange()
				.expectStatus().isUnauthorized()
				.expectBody().returnResult());
		}
		EntityExchangeResult<byte[]> first = results.get(0);
		assertThat(new String(first.getResponseBody())).startsWith("{\"error\":\"invalid_api_key\",\"message\":");
		assertThat(first.getResponseHeaders().getFirst(HttpHeaders.WWW_AUTHENTICATE))
			.isEqualTo("Bearer realm=\"api\", error=\"invalid_token\"");
		for (EntityExchangeResult<byte[]> result : results) {
			assertThat(result.getResponseBody()).isEqualTo(first.getResponseBody());
			assertThat(result.getResponseHeaders().toSingleValueMap()).isEqualTo(first.getResponseHeaders().toSingleValueMap());
		}
		assertThat(upstream.hasReceived()).isFalse();
	}

	@Test
	void twoDifferentKeysInOneRequestAre401EvenIfBothAreValid() {
		String a = (String) this.admin.create("acme", List.of()).get("key");
		String b = (String) this.admin.create("acme", List.of()).get("key");
		this.proxy.get().uri("/echo/x").header("Authorization", "Bearer " + a).header("X-API-Key", b).exchange()
			.expectStatus().isUnauthorized()
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "invalid_api_key"));
		this.proxy.get().uri("/echo/x").header("Authorization", "Bearer " + a).header("X-API-Key", a).exchange()
			.expectStatus().isOk();
	}

	@Test
	void spoofedIdentityHeadersNeverReachTheDownstream() {
		String key = (String) this.admin.create("real-consumer", List.of("read")).get("key");
		this.proxy.get().uri("/echo/x").header("X-API-Key", key)
			.header("X-Consumer-Id", "admin").header("X-Api-Key-Id", "forged").header("X-Api-Key-Scopes", "admin")
			.exchange().expectStatus().isOk();
		EchoUpstream.Received authenticated = upstream.take();
		assertThat(authenticated.headers().get("X-Consumer-Id")).containsExactly("real-consumer");
		assertThat(authenticated.headers().get("X-Api-Key-Scopes")).containsExactly("read");

		this.proxy.get().uri("/public/status")
			.header("X-Consumer-Id", "admin").header("X-Api-Key-Id", "forged").header("X-Api-Key-Scopes", "admin")
			.exchange().expectStatus().isOk();
		EchoUpstream.Received open = upstream.take();
		assertThat(open.headers().containsHeader("X-Consumer-Id")).isFalse();
		assertThat(open.headers().containsHeader("X-Api-Key-Id")).isFalse();
		assertThat(open.headers().containsHeader("X-Api-Key-Scopes")).isFalse();
	}

	@Test
	void underscoreSpellingsOfTheIdentityHeadersNeverReachTheDownstream() {
		// CGI-style servers read X_Consumer_Id and X-Consumer-Id both as HTTP_X_CONSUMER_ID.
		List<String> spellings = List.of("X_Consumer_Id", "x_consumer-id", "X-Api_Key_Id", "X_API_KEY_SCOPES",
				"X_Anonymous_Consumer");
		String key = (String) this.admin.create("real-consumer", List.of("read")).get("key");
		for (String path : List.of("/echo/x", "/public/status")) {
			this.proxy.get().uri(path).header("X-API-Key", key).header("X_Not_Identity", "kept")
				.headers((headers) -> spellings.forEach((name) -> headers.add(name, "admin")))
				.exchange().expectStatus().isOk();
			HttpHeaders received = upstream.take().headers();
			for (String name : spellings) {
				assertThat(received.containsHeader(name)).as(path + " " + name).isFalse();
			}
			assertThat(received.getFirst("X_Not_Identity")).isEqualTo("kept");
		}
	}

	@Test
	void laterFiltersSeeTheServersOwnRequestWithoutTheKeyOrAnyIdentityHeader() {
		// The server's request is rewritten in place: later filters get the request and exchange
		// types a gateway without key auth has, and nothing that inspects the server's request
		// afterwards can find the key. The identity is added only when the request is sent.
		String key = (String) this.admin.create("seen-later", List.of()).get("key");
		this.proxy.get().uri("/echo/x").header("X-API-Key", key).header("X-Consumer-Id", "forged").exchange()
			.expectStatus().isOk();
		ServerHttpRequest seen = LaterFilter.seen.get();
		assertThat(seen.getClass().getSimpleName()).isEqualTo("ReactorServerHttpRequest");
		HttpServerRequest server = ServerHttpRequestDecorator.getNativeRequest(seen);
		assertThat(server.requestHeaders().contains("X-API-Key")).isFalse();
		assertThat(server.requestHeaders().contains("X-Consumer-Id")).isFalse();
		assertThat(upstream.take().headers().get("X-Consumer-Id")).containsExactly("seen-later");
	}

	@Test
	void headersChangedBeforeTheGatewayAreTheOnesForwarded() {
		// The filter forwards a copy of the request's headers; a request a web filter already
		// mutated must be copied from what that filter made, not from the server's original.
		String key = (String) this.admin.create("mutated-before", List.of()).get("key");
		this.proxy.get().uri("/echo/x").header("X-API-Key", key).header(EarlierWebFilter.TRIGGER, "on")
			.header("X-Dropped-Before", "client").exchange().expectStatus().isOk();
		EchoUpstream.Received received = upstream.take();
		assertThat(received.headers().get("X-Added-Before")).containsExactly("by-web-filter");
		assertThat(received.headers().containsHeader("X-Dropped-Before")).isFalse();
		assertThat(received.headers().get("X-Consumer-Id")).containsExactly("mutated-before");
		assertThat(received.headers().containsHeader("X-API-Key")).isFalse();

		this.proxy.get().uri("/public/x").header(EarlierWebFilter.TRIGGER, "on").header("X-Consumer-Id", "forged")
			.exchange().expectStatus().isOk();
		EchoUpstream.Received open = upstream.take();
		assertThat(open.headers().get("X-Added-Before")).containsExactly("by-web-filter");
		assertThat(open.headers().containsHeader("X-Consumer-Id")).isFalse();
	}

	@Test
	void theIdentityIsWrittenAfterEveryHeaderFilterThatCopiesTheHeaders() {
		// Written last, the identity headers are not copied by the gateway's own header filters;
		// only filters of the same (lowest) order may follow, in registration order.
		List<HttpHeadersFilter> filters = this.routing.getHeadersFilters();
		int identity = -1;
		for (int i = 0; i < filters.size(); i++) {
			if (filters.get(i) instanceof IdentityHeaders) {
				identity = i;
			}
		}
		assertThat(identity).isNotNegative();
		for (HttpHeadersFilter later : filters.subList(identity + 1, filters.size())) {
			assertThat(AnnotationAwareOrderComparator.INSTANCE.compare(filters.get(identity), later)).as(later.toString())
				.isZero();
		}
	}

	@Test
	void aRouteCanOptOutThroughItsMetadata() {
		this.proxy.get().uri("/public/health").exchange().expectStatus().isOk();
		assertThat(upstream.take().uri()).isEqualTo("/public/health");
	}

	@Test
	void aKeySentToARouteThatNeedsNoneIsNotForwarded() {
		String key = (String) this.admin.create("needless", List.of()).get("key");
		this.proxy.get().uri("/public/health").header("X-API-Key", key).header("Authorization", "Bearer " + key)
			.exchange().expectStatus().isOk();
		EchoUpstream.Received open = upstream.take();
		assertThat(open.headers().containsHeader("X-API-Key")).isFalse();
		assertThat(open.headers().containsHeader("Authorization")).isFalse();
		assertThat(open.headers().containsHeader("X-Consumer-Id")).as("and it authenticates nothing").isFalse();

		String other = (String) this.admin.create("needless", List.of()).get("key");
		this.proxy.get().uri("/public/health").header("X-API-Key", key).header("Authorization", "Bearer " + other)
			.exchange().expectStatus().isOk();
		EchoUpstream.Received twoKeys = upstream.take();
		assertThat(twoKeys.headers().containsHeader("X-API-Key")).as("two different keys: both removed").isFalse();
		assertThat(twoKeys.headers().containsHeader("Authorization")).isFalse();
	}

	@Test
	void aServicesOwnBearerTokenNextToAKeyIsForwardedUntouched() {
		String key = (String) this.admin.create("with-jwt", List.of()).get("key");
		String jwt = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln";
		this.proxy.get().uri("/echo/x").header("X-API-Key", key).header("Authorization", jwt).exchange()
			.expectStatus().isOk();
		EchoUpstream.Received received = upstream.take();
		assertThat(received.headers().getFirst("X-Consumer-Id")).isEqualTo("with-jwt");
		assertThat(received.headers().containsHeader("X-API-Key")).isFalse();
		assertThat(received.headers().getFirst("Authorization")).isEqualTo(jwt);

		this.proxy.get().uri("/public/health").header("X-API-Key", key).header("Authorization", jwt).exchange()
			.expectStatus().isOk();
		EchoUpstream.Received open = upstream.take();
		assertThat(open.headers().containsHeader("X-API-Key")).isFalse();
		assertThat(open.headers().getFirst("Authorization")).isEqualTo(jwt);

		// Alone, the token is what the client presents as its key: refused like any malformed one.
		this.proxy.get().uri("/echo/x").header("Authorization", jwt).exchange()
			.expectStatus().isUnauthorized()
			.expectBody(JSON).value((body) -> assertThat(body).containsEntry("error", "invalid_api_key"));
	}

	@Test
	void theProxyPortServesNoActuatorPaths() {
		for (String path : List.of("/actuator", "/actuator/health", "/actuator/apikeys")) {
			this.proxy.get().uri(path).header("Authorization", "Bearer " + ADMIN_TOKEN).exchange()
				.expectStatus().isNotFound();
		}
		this.proxy.post().uri("/actuator/apikeys").header("Authorization", "Bearer " + ADMIN_TOKEN)
			.contentType(MediaType.APPLICATION_JSON).bodyValue(Map.of("consumerId", "x")).exchange()
			.expectStatus().isNotFound();
		WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + this.managementPort).build()
			.get().uri("/actuator/health").exchange().expectStatus().isOk();
	}

	/** A route-stage filter that records the request as the filters after key auth see it. */
	static class LaterFilter implements GlobalFilter, Ordered {

		static final AtomicReference<ServerHttpRequest> seen = new AtomicReference<>();

		@Override
		public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
			seen.set(exchange.getRequest());
			return chain.filter(exchange);
		}

		@Override
		public int getOrder() {
			return 1;
		}

	}

	/** A web filter that, when asked to, changes the request's headers before the gateway sees it. */
	@Configuration(proxyBeanMethods = false)
	static class EarlierWebFilter {

		@Bean
		LaterFilter laterFilter() {
			return new LaterFilter();
		}

		static final String TRIGGER = "X-Test-Mutate-Before";

		@Bean
		WebFilter earlierHeaderMutation() {
			return (exchange, chain) -> {
				if (!exchange.getRequest().getHeaders().containsHeader(TRIGGER)) {
					return chain.filter(exchange);
				}
				return chain.filter(exchange.mutate().request((request) -> request.headers((headers) -> {
					headers.add("X-Added-Before", "by-web-filter");
					headers.remove("X-Dropped-Before");
				})).build());
			};
		}

	}

}
