package dev.keyauth.test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/** Calls the admin API on the management port the way an operator's curl would. */
public final class AdminClient {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	private final WebTestClient client;

	public AdminClient(int managementPort, String token) {
		// A new connection per call, as an operator's curl makes: in this suite a pooled client
		// connection to the management port once stalled a request until the client's timeout.
		this.client = WebTestClient
			.bindToServer(new ReactorClientHttpConnector(HttpClient.create(ConnectionProvider.newConnection())))
			.baseUrl("http://127.0.0.1:" + managementPort + "/actuator/apikeys")
			.defaultHeader("Authorization", "Bearer " + token)
			.responseTimeout(Duration.ofSeconds(10))
			.build();
	}

	public WebTestClient client() {
		return this.client;
	}

	/** Creates a key and returns the 201 body (which holds the raw key). */
	public Map<String, Object> create(String consumerId, List<String> scopes) {
		return create(Map.of("consumerId", consumerId, "scopes", scopes));
	}

	public Map<String, Object> create(Map<String, Object> body) {
		return this.client.post()
			.contentType(MediaType.APPLICATION_JSON)
			.bodyValue(body)
			.exchange()
			.expectStatus()
			.isCreated()
			.expectBody(JSON)
			.returnResult()
			.getResponseBody();
	}

	public Map<String, Object> revoke(String id) {
		return this.client.delete().uri("/{id}", id).exchange().expectStatus().isOk().expectBody(JSON).returnResult()
			.getResponseBody();
	}

}
