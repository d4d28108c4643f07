package dev.keyauth.gateway;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Starts the packaged gateway the way README.md says, {@code java -jar
 * gateway-app/target/gateway-app.jar --spring.profiles.active=demo} from the repository root,
 * with no database or Redis configured, and walks through it as a new user would: create a key,
 * call a route, see the identity arrive, revoke, see 401; then restarts it and finds the keys
 * still there. Only ports and the data directory are moved, so it can run beside anything.
 */
class ReadmeWalkThroughIT {

	private static final String TOKEN = "readme-token";

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private final JsonMapper json = new JsonMapper();

	private final List<Process> processes = new ArrayList<>();

	private int port;

	private int managementPort;

	@AfterEach
	void stop() throws InterruptedException {
		for (Process process : this.processes) {
			stop(process);
		}
	}

	@Test
	void theReadmeWalkThroughWorksWithNothingButJava() throws Exception {
		Path dataDir = Files.createTempDirectory("keyauth-readme");
		Path log = dataDir.resolve("gateway.log");
		int orders = freePort();
		int inventory = freePort();
		this.port = freePort();
		this.managementPort = freePort();
		Process gateway = start(dataDir, log, orders, inventory);

		assertThat(Files.readString(log)).contains("API keys: stored in embedded H2")
			.contains("revocations are not shared")
			// routes.yml gives its admin route every spelling, so the route check has nothing to say.
			.doesNotContain("asks for more than route");
		Map<String, Object> created = admin("POST", "", "{\"consumerId\":\"acme\",\"scopes\":[\"orders:read\"]}", 201);
		String key = (String) created.get("key");

		HttpResponse<String> echoed = proxy("/orders/42", key);
		assertThat(echoed.statusCode()).isEqualTo(200);
		Map<String, Object> received = this.json.readValue(echoed.body(), Map.class);
		assertThat(received).containsEntry("service", "orders");
		Map<String, Object> headers = (Map<String, Object>) received.get("headers");
		assertThat(headers).containsEntry("X-Consumer-Id", "acme").containsEntry("X-Api-Key-Id", created.get("id"))
			.doesNotContainKey("Authorization");
		assertThat(proxy("/inventory/widgets", key).statusCode()).isEqualTo(200);
		assertThat(proxy("/orders/42", null).statusCode()).isEqualTo(401);

		String metrics = get("http://127.0.0.1:" + this.managementPort + "/actuator/prometheus", null).body();
		assertThat(metrics).contains("keyauth_authentications_total{outcome=\"valid\"} 2.0")
			.contains("keyauth_authentications_total{outcome=\"missing\"} 1.0")
			.contains("keyauth_store_lookups_seconds_count{result=\"success\"}");
		Map<String, Object> health = this.json
			.readValue(get("http://127.0.0.1:" + this.managementPort + "/actuator/health", null).body(), Map.class);
		assertThat(health).containsEntry("status", "UP");
		assertThat(((Map<String, Map<String, Object>>) health.get("components")).get("keyStore"))
			.containsEntry("status", "UP");

		// The operator's command line, against the same admin API.
		CliResult cliCreated = cli(TOKEN, "create", "--consumer", "cli-user", "--scope", "orders:read", "--ttl", "P30D");
		assertThat(cliCreated.exit()).as(cliCreated.err()).isZero();
		String cliKey = (String) this.json.readValue(cliCreated.out(), Map.class).get("key");
		assertThat(proxy("/orders/1", cliKey).statusCode()).isEqualTo(200);
		assertThat(cli(TOKEN, "list", "--consumer", "cli-user").out()).contains("cli-user").doesNotContain(cliKey);
		CliResult wrongToken = cli("wrong", "list");
		assertThat(wrongToken.exit()).isEqualTo(1);
		assertThat(wrongToken.err()).contains("admin token was refused");
		CliResult badInput = cli(TOKEN, "create", "--consumer", " ");
		assertThat(badInput.exit()).isEqualTo(1);
		assertThat(badInput.err()).contains("consumerId must not be blank");
		CliResult unknown = cli(TOKEN, "revoke", "00000000-0000-4000-8000-000000000000");
		assertThat(unknown.exit()).isEqualTo(1);
		assertThat(unknown.err()).contains("no API key with id");
		assertThat(cli(TOKEN, "frobnicate").exit()).isEqualTo(2);
		// A key found somewhere it should not be: which one is it? Then revoke it.
		CliResult identified = cliWithInput(TOKEN, cliKey + "\n", "identify");
		assertThat(identified.exit()).as(identified.err()).isZero();
		String cliKeyId = (String) this.json.readValue(identified.out(), Map.class).get("id");
		assertThat(identified.out()).contains("cli-user").doesNotContain(cliKey);
		assertThat(cli(TOKEN, "revoke", cliKeyId).exit()).isZero();
		assertThat(proxy("/orders/1", cliKey).statusCode()).isEqualTo(401);
		assertThat(cli(TOKEN, "identify", cliKey).exit()).isEqualTo(2);

		// Keys live in a file under the data directory: they survive a restart.
		stop(gateway);
		this.processes.remove(gateway);
		start(dataDir, log, orders, inventory);
		// Usage is written every 30 s and on graceful shutdown: the two uses made before the
		// restart were flushed when the first process stopped.
		assertThat(((Number) admin("GET", "/" + created.get("id"), null, 200).get("requestCount")).intValue())
			.isEqualTo(2);
		assertThat(proxy("/orders/42", key).statusCode()).isEqualTo(200);
		admin("DELETE", "/" + created.get("id"), null, 200);
		HttpResponse<String> refused = proxy("/orders/42", key);
		assertThat(refused.statusCode()).isEqualTo(401);
		assertThat(refused.body()).contains("invalid_api_key");
		assertThat(Files.readString(log)).doesNotContain(key);
	}

	private Process start(Path dataDir, Path log, int orders, int inventory) throws Exception {
		Path root = Path.of(System.getProperty("keyauth.repository.root", "..")).toAbsolutePath().normalize();
		Path jar = root.resolve("gateway-app/target/gateway-app.jar");
		assertThat(jar).exists();
		ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
				"-jar", jar.toString(), "--spring.profiles.active=demo")
			.directory(root.toFile())
			.redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
		Map<String, String> env = builder.environment();
		env.keySet().removeIf((name) -> name.startsWith("KEYAUTH_") || name.startsWith("SPRING_"));
		env.put("KEYAUTH_ADMIN_TOKEN", TOKEN);
		env.put("GATEWAY_DATA_DIR", dataDir.toString());
		env.put("GATEWAY_PORT", Integer.toString(this.port));
		env.put("MANAGEMENT_PORT", Integer.toString(this.managementPort));
		env.put("DEMO_ORDERS_PORT", Integer.toString(orders));
		env.put("DEMO_INVENTORY_PORT", Integer.toString(inventory));
		env.put("ORDERS_SERVICE_URL", "http://127.0.0.1:" + orders);
		env.put("INVENTORY_SERVICE_URL", "http://127.0.0.1:" + inventory);
		Process process = builder.start();
		this.processes.add(process);
		long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
		while (System.nanoTime() < deadline) {
			assertThat(process.isAlive()).as("gateway exited; see %s", log).isTrue();
			try {
				if (get("http://127.0.0.1:" + this.managementPort + "/actuator/health", null).statusCode() == 200) {
					return process;
				}
			}
			catch (IOException ex) {
				// not listening yet
			}
			Thread.sleep(250);
		}
		throw new AssertionError("gateway did not become healthy; see " + log);
	}

	record CliResult(int exit, String out, String err) {
	}

	/** Runs {@code bin/keyauth} as an operator would, against this gateway's management port. */
	private CliResult cli(String token, String... args) throws Exception {
		return cliWithInput(token, "", args);
	}

	/** {@link #cli} with {@code input} on the command's standard input. */
	private CliResult cliWithInput(String token, String input, String... args) throws Exception {
		Path root = Path.of(System.getProperty("keyauth.repository.root", "..")).toAbsolutePath().normalize();
		List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
				root.resolve("bin/KeyAuthCli.java").toString()));
		command.addAll(List.of(args));
		ProcessBuilder builder = new ProcessBuilder(command);
		builder.environment().put("KEYAUTH_ADMIN_TOKEN", token);
		builder.environment()
			.put("KEYAUTH_ADMIN_URL", "http://127.0.0.1:" + this.managementPort + "/actuator/apikeys");
		Process process = builder.start();
		try (var stdin = process.getOutputStream()) {
			stdin.write(input.getBytes(java.nio.charset.StandardCharsets.UTF_8));
		}
		String out = new String(process.getInputStream().readAllBytes());
		String err = new String(process.getErrorStream().readAllBytes());
		assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
		return new CliResult(process.exitValue(), out, err);
	}

	private Map<String, Object> admin(String method, String path, String body, int expectedStatus) throws Exception {
		HttpRequest.Builder request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + this.managementPort + "/actuator/apikeys" + path))
			.header("Authorization", "Bearer " + TOKEN)
			.timeout(Duration.ofSeconds(10));
		if (body != null) {
			request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
		}
		else {
			request.method(method, HttpRequest.BodyPublishers.noBody());
		}
		HttpResponse<String> response = this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(response.body()).isEqualTo(expectedStatus);
		return this.json.readValue(response.body(), Map.class);
	}

	private HttpResponse<String> proxy(String path, String key) throws Exception {
		return get("http://127.0.0.1:" + this.port + path, key);
	}

	private HttpResponse<String> get(String url, String key) throws IOException, InterruptedException {
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
		if (key != null) {
			request.header("Authorization", "Bearer " + key);
		}
		return this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static void stop(Process process) throws InterruptedException {
		// SIGTERM: the graceful shutdown the README promises (in-flight requests, usage flush).
		process.destroy();
		if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
			process.destroyForcibly();
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

}
