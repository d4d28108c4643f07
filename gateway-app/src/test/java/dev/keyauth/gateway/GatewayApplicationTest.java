package dev.keyauth.gateway;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.keyauth.test.AdminClient;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.TestPostgres;
import dev.keyauth.test.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.cloud.gateway.route.RouteLocator;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.HandlerMapping;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reference gateway with the repository's own routes.yml, its downstream services replaced
 * by in-process echo servers.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "gateway.routes.location=file:../routes.yml",
				"KEYAUTH_ADMIN_TOKEN=" + GatewayApplicationTest.ADMIN_TOKEN })
class GatewayApplicationTest {

	static final String ADMIN_TOKEN = "gateway-app-test-token";

	static final EchoUpstream orders = new EchoUpstream();

	static final EchoUpstream inventory = new EchoUpstream();

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		TestServices.register(registry);
		registry.add("ORDERS_SERVICE_URL", orders::uri);
		registry.add("INVENTORY_SERVICE_URL", inventory::uri);
	}

	@AfterAll
	static void stop() {
		orders.close();
		inventory.close();
	}

	@LocalServerPort
	int port;

	@LocalManagementPort
	int managementPort;

	@Autowired
	RouteLocator routes;

	@Autowired
	List<HandlerMapping> handlerMappings;

	WebTestClient proxy;

	@BeforeEach
	void setUp() {
		this.proxy = WebTestClient.bindToServer()
			.baseUrl("http://127.0.0.1:" + this.port)
			.responseTimeout(Duration.ofSeconds(10))
			.build();
		orders.clear();
		inventory.clear();
	}

	@Test
	void loadsTheRoutesOfTheTopLevelRoutesFile() {
		assertThat(this.routes.getRoutes().map((route) -> route.getId()).collectList().block())
			.contains("orders-admin", "orders", "inventory", "orders-status");
	}

	@Test
	void aKeyReachesBothServicesWithItsIdentityUntilRevoked() {
		AdminClient admin = new AdminClient(this.managementPort, ADMIN_TOKEN);
		Map<String, Object> created = admin.create("acme", List.of("orders:read"));
		String key = (String) created.get("key");

		this.proxy.get().uri("/orders/42").header("Authorization", "Bearer " + key).exchange().expectStatus().isOk();
		EchoUpstream.Received atOrders = orders.take();
		assertThat(atOrders.uri()).isEqualTo("/orders/42");
		assertThat(atOrders.headers().getFirst("X-Consumer-Id")).isEqualTo("acme");
		assertThat(atOrders.headers().getFirst("X-Api-Key-Id")).isEqualTo(created.get("id"));
		assertThat(atOrders.headers().containsHeader("Authorization")).isFalse();

		this.proxy.get().uri("/inventory/widgets").header("X-API-Key", key).exchange().expectStatus().isOk();
		assertThat(inventory.take().headers().getFirst("X-Consumer-Id")).isEqualTo("acme");

		// routes.yml requires orders:admin under /orders/admin, in each of its spellings.
		for (String path : List.of("/orders/admin/purge", "/orders/admin", "/orders/admin/", "/orders/admin.json",
				"/orders/admin.json/")) {
			this.proxy.get().uri(path).header("X-API-Key", key).exchange().expectStatus().isForbidden();
		}
		// Not around it either: /orders//admin/purge matches only /orders/**, and the gateway
		// would forward it as /orders/admin/purge.
		this.proxy.get().uri(URI.create("http://127.0.0.1:" + this.port + "/orders//admin/purge"))
			.header("X-API-Key", key).exchange()
			.expectStatus().isBadRequest()
			.expectBody().jsonPath("$.error").isEqualTo("invalid_path");
		assertThat(orders.hasReceived()).isFalse();

		admin.revoke((String) created.get("id"));
		this.proxy.get().uri("/orders/42").header("Authorization", "Bearer " + key).exchange()
			.expectStatus().isUnauthorized();
		this.proxy.get().uri("/inventory/widgets").header("X-API-Key", key).exchange().expectStatus().isUnauthorized();
		assertThat(orders.hasReceived()).isFalse();
		assertThat(inventory.hasReceived()).isFalse();
	}

	@Test
	void probesAnswerOnTheProxyPortWithoutAKeyAndNothingElseOfActuatorDoes() {
		for (String probe : List.of("/livez", "/readyz")) {
			this.proxy.get().uri(probe).exchange().expectStatus().isOk()
				.expectBody(String.class).isEqualTo("{\"status\":\"UP\"}");
		}
		// The rest of actuator, the admin API included, stays on the management port: here these
		// paths are the gateway's, and no route takes them.
		for (String path : List.of("/actuator/health", "/actuator/apikeys")) {
			this.proxy.get().uri(path).header("Authorization", "Bearer " + ADMIN_TOKEN).exchange()
				.expectStatus().isNotFound();
		}
		assertThat(orders.hasReceived()).isFalse();
		assertThat(inventory.hasReceived()).isFalse();
		// Boot's mapping of the probes sits ahead of the routes; only probe paths may reach it.
		assertThat(this.handlerMappings).noneMatch((mapping) -> mapping.getClass().getSimpleName()
			.equals("AdditionalHealthEndpointPathsWebFluxHandlerMapping"));
		assertThat(this.handlerMappings).map(Object::toString)
			.anyMatch((mapping) -> mapping.startsWith("ProbePathsHandlerMapping[") && mapping.contains("/livez")
					&& mapping.contains("/readyz"));
	}

	@Test
	void thePublicStatusRouteNeedsNoKeyAndDropsSpoofedIdentity() {
		this.proxy.get().uri("/status").header("X-Consumer-Id", "admin").exchange().expectStatus().isOk();
		assertThat(orders.take().headers().containsHeader("X-Consumer-Id")).isFalse();
		this.proxy.get().uri("/orders/1").exchange().expectStatus().isUnauthorized();
	}

	@Test
	void thePublicStatusRouteLeadsToNoOtherPathOfTheOrdersService() {
		// Both routes go to the orders service; a server that resolves the dot segments would
		// serve /orders/1 through the route that needs no key.
		for (String path : List.of("/status/../orders/1", "/status/%2e%2e/orders/1", "/status/..;/orders/1")) {
			this.proxy.get().uri(URI.create("http://127.0.0.1:" + this.port + path)).exchange()
				.expectStatus().isBadRequest()
				.expectBody().jsonPath("$.error").isEqualTo("invalid_path");
		}
		assertThat(orders.hasReceived()).isFalse();
	}

}
