package dev.keyauth.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import dev.keyauth.test.AdminClient;
import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.TestServices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests written byte by byte to the real server, for what no HTTP client will send: invalid
 * UTF-8, control characters, repeated and oversized headers. Whatever the bytes, the answer is
 * 400 (the HTTP server refused the request line or a header), 401 (we refused the key) or 431
 * (headers beyond the server's limit): never a 2xx, never a 5xx, and nothing reaches the
 * downstream.
 */
@SpringBootTest(classes = MinimalGatewayApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.server.port=0", "keyauth.admin.token=" + HostileRequestsTest.ADMIN_TOKEN })
class HostileRequestsTest {

	static final String ADMIN_TOKEN = "hostile-admin-token";

	/** The status recorded when the connection was reset before any response could be read. */
	private static final int RESET = -1;

	static final EchoUpstream upstream = new EchoUpstream();

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		TestServices.register(registry);
		String admin = TestServices.route(registry, 0, "echo-admin", upstream::uri, "/echo/admin/**");
		registry.add(admin + ".metadata.keyauth.scopes[0]", () -> "admin");
		TestServices.route(registry, 1, "echo", upstream::uri, "/echo/**");
		// A route without key auth to the same downstream service, as a status or health route is.
		String open = TestServices.route(registry, 2, "open", upstream::uri, "/open/**");
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

	String validKey;

	@BeforeEach
	void key() {
		this.validKey = (String) new AdminClient(this.managementPort, ADMIN_TOKEN).create("hostile", List.of())
			.get("key");
		upstream.clear();
	}

	/** Sends the request line, the given header lines (raw bytes) and an empty line. */
	private Response send(byte[]... headerLines) throws IOException {
		return sendTo("/echo/x", headerLines);
	}

	/** The same, for the path exactly as given: no client library resolves or re-encodes it. */
	private Response sendTo(String rawPath, byte[]... headerLines) throws IOException {
		ByteArrayOutputStream request = new ByteArrayOutputStream();
		request.write(("GET " + rawPath + " HTTP/1.1\r\nHost: 127.0.0.1:" + this.port + "\r\nConnection: close\r\n")
			.getBytes(StandardCharsets.ISO_8859_1));
		for (byte[] line : headerLines) {
			request.write(line);
			request.write(new byte[] { '\r', '\n' });
		}
		request.write(new byte[] { '\r', '\n' });
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(10_000);
			OutputStream out = socket.getOutputStream();
			out.write(request.toByteArray());
			out.flush();
			return Response.read(socket.getInputStream());
		}
	}

	private static byte[] header(String name, byte[] value) {
		byte[] prefix = (name + ": ").getBytes(StandardCharsets.ISO_8859_1);
		byte[] line = new byte[prefix.length + value.length];
		System.arraycopy(prefix, 0, line, 0, prefix.length);
		System.arraycopy(value, 0, line, prefix.length, value.length);
		return line;
	}

	private static byte[] header(String name, String latin1Value) {
		return header(name, latin1Value.getBytes(StandardCharsets.ISO_8859_1));
	}

	private void assertRefused(Response response, int... allowed) {
		assertThat(response.status()).as(response.head()).isIn(toList(allowed));
		assertThat(upstream.hasReceived()).as("the downstream received a request").isFalse();
		if (response.status() == 401) {
			assertThat(response.body()).contains("{\"error\":\"");
		}
	}

	private static List<Integer> toList(int... values) {
		return java.util.Arrays.stream(values).boxed().toList();
	}

	@Test
	void theValidKeyWorksOverTheRawSocket() throws IOException {
		// The harness itself: without this, every refusal below could be a broken request.
		assertThat(send(header("X-API-Key", this.validKey)).status()).isEqualTo(200);
		assertThat(upstream.take().headers().getFirst("X-Consumer-Id")).isEqualTo("hostile");
	}

	@Test
	void anAmbiguousPathCannotLeadFromARouteWithoutKeyAuthOrScopesToOneWithThem() throws IOException {
		// The harness: the open route needs no key, and the admin route a scope this key lacks.
		assertThat(sendTo("/open/x").status()).isEqualTo(200);
		assertThat(upstream.take().uri()).isEqualTo("/open/x");
		assertThat(sendTo("/echo/admin/y", header("X-API-Key", this.validKey)).status()).isEqualTo(403);

		// Each would match the route on the left and be served, by any downstream server that
		// resolves dot segments, as the path on the right.
		for (String path : List.of("/open/../echo/x", "/open/%2e%2e/echo/x", "/open/..%2fecho/x",
				"/open/..;/echo/x", "/open/%252e%252e/echo/x")) {
			Response response = sendTo(path);
			assertThat(response.status()).as(path).isEqualTo(400);
			assertThat(response.body()).as(path).contains("\"error\":\"invalid_path\"");
		}
		// A raw backslash is not allowed in a URI: the server refuses it before any route.
		assertThat(sendTo("/open/..\\echo/x").status()).isEqualTo(400);
		// '//' needs no help from the downstream server: the gateway itself collapses it in the
		// path it forwards. ';x' leaves '//' on servers that strip path parameters, and a NUL
		// ends the path for a server written in C.
		for (String path : List.of("/echo/x/../admin/y", "/echo/admin%2Fy", "/echo//admin/y", "/echo/;x/admin/y",
				"/echo/admin%00/y")) {
			Response scoped = sendTo(path, header("X-API-Key", this.validKey));
			assertThat(scoped.status()).as(path).isEqualTo(400);
			assertThat(scoped.body()).as(path).contains("\"error\":\"invalid_path\"");
		}
		assertThat(upstream.hasReceived()).as("the downstream received a request").isFalse();
	}

	@Test
	void invalidUtf8AndNonAsciiBytesAreRefused() throws IOException {
		byte[] key = this.validKey.getBytes(StandardCharsets.US_ASCII);
		byte[] invalidUtf8 = { (byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xFE, (byte) 0x80 };
		assertRefused(send(header("X-API-Key", invalidUtf8)), 400, 401);
		byte[] keyWithInvalidByte = key.clone();
		keyWithInvalidByte[20] = (byte) 0xFF;
		assertRefused(send(header("X-API-Key", keyWithInvalidByte)), 400, 401);
		assertRefused(send(header("Authorization", ("Bearer " + this.validKey.substring(0, 56) + "é")
			.getBytes(StandardCharsets.UTF_8))), 400, 401);
	}

	@Test
	void controlCharactersAreRefused() throws IOException {
		for (char c : new char[] { 0, 1, 7, 8, 11, 12, 27, 127 }) {
			String value = this.validKey.substring(0, 30) + c + this.validKey.substring(30);
			assertRefused(send(header("X-API-Key", value)), 400, 401);
		}
		// A key split by an obs-fold continuation line is not the key.
		assertRefused(send(header("X-API-Key", this.validKey.substring(0, 30)),
				(" " + this.validKey.substring(30)).getBytes(StandardCharsets.ISO_8859_1)), 400, 401);
	}

	@Test
	void randomBytesNeverPass() throws IOException {
		Random random = new Random(20261128);
		for (int i = 0; i < 50; i++) {
			byte[] value = new byte[1 + random.nextInt(120)];
			random.nextBytes(value);
			for (int j = 0; j < value.length; j++) {
				// CR and LF would end the header line: that is a different request, not a value.
				if (value[j] == '\r' || value[j] == '\n') {
					value[j] = ' ';
				}
			}
			assertRefused(send(header((i % 2 == 0) ? "X-API-Key" : "Authorization", value)), 400, 401);
		}
	}

	@Test
	void repeatedAndConflictingHeadersAreRefused() throws IOException {
		byte[][] many = new byte[100][];
		for (int i = 0; i < many.length; i++) {
			many[i] = header("X-API-Key", (i == 50) ? "sk_live_other" : this.validKey);
		}
		assertRefused(send(many), 401);
		assertRefused(send(header("Authorization", "Bearer " + this.validKey),
				header("Authorization", "Bearer " + this.validKey.substring(1))), 401);
		assertRefused(send(header("Authorization", "Basic " + this.validKey)), 401);
		assertRefused(send(header("Authorization", "Bearer Bearer " + this.validKey)), 401);
	}

	@Test
	void oversizedHeadersAreRefused() throws IOException {
		// Under the server's 8 KB limit on the header section: our 401.
		assertRefused(send(header("X-API-Key", "a".repeat(7 * 1024))), 401);
		// At and beyond it: the server's 431, before any filter runs.
		assertRefused(send(header("X-API-Key", "a".repeat(8 * 1024))), 431);
		// The server answers 431 and closes while this client is still sending: the kernel may
		// turn that into a reset before the answer can be read. Either way, nothing got through.
		assertRefused(send(header("Authorization", "Bearer " + "a".repeat(64 * 1024))), 431, RESET);
		byte[][] many = new byte[400][];
		for (int i = 0; i < many.length; i++) {
			many[i] = header("X-Padding-" + i, "x".repeat(40));
		}
		assertRefused(send(many), 431);
	}

	@Test
	void aConnectionStaysUsableAfterARefusal() throws IOException {
		// Refusals, then requests on the same keep-alive connection, each sent once the previous
		// answer arrived, as a client does: each gets its answer (the server must not stop reading
		// after answering a request before its end; see Refusals).
		String refused = "GET /echo/x HTTP/1.1\r\nHost: h\r\nX-API-Key: sk_live_nope\r\n\r\n";
		String accepted = "GET /echo/x HTTP/1.1\r\nHost: h\r\nX-API-Key: " + this.validKey + "\r\n\r\n";
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(5_000);
			OutputStream out = socket.getOutputStream();
			InputStream in = socket.getInputStream();
			for (int round = 0; round < 50; round++) {
				out.write(refused.getBytes(StandardCharsets.ISO_8859_1));
				out.flush();
				assertThat(readOne(in)).as("round " + round + ", the refusal").startsWith("HTTP/1.1 401");
				out.write(((round % 2 == 0) ? refused : accepted).getBytes(StandardCharsets.ISO_8859_1));
				out.flush();
				assertThat(readOne(in)).as("round " + round + ", the next request")
					.startsWith((round % 2 == 0) ? "HTTP/1.1 401" : "HTTP/1.1 200");
			}
		}
	}

	@Test
	void aRefusedRequestWithABodyClosesItsConnection() throws IOException {
		String body = "{\"x\":1}";
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(5_000);
			socket.getOutputStream().write(("POST /echo/x HTTP/1.1\r\nHost: h\r\nX-API-Key: sk_live_nope\r\n"
					+ "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
				.getBytes(StandardCharsets.ISO_8859_1));
			Response response = Response.read(socket.getInputStream());
			assertThat(response.status()).isEqualTo(401);
			assertThat(response.head().toLowerCase()).contains("connection: close");
		}
		assertThat(upstream.hasReceived()).isFalse();
	}

	/** Reads one response (head and a Content-Length body) from a kept-alive connection. */
	private static String readOne(InputStream in) throws IOException {
		StringBuilder head = new StringBuilder();
		while (!head.toString().endsWith("\r\n\r\n")) {
			int b = in.read();
			if (b < 0) {
				throw new IOException("connection closed after: " + head);
			}
			head.append((char) b);
		}
		java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)")
			.matcher(head);
		int remaining = length.find() ? Integer.parseInt(length.group(1)) : 0;
		in.readNBytes(remaining);
		return head.toString();
	}

	record Response(int status, String head, String body) {

		static Response read(InputStream in) throws IOException {
			ByteArrayOutputStream received = new ByteArrayOutputStream();
			byte[] buffer = new byte[8192];
			try {
				for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
					received.write(buffer, 0, n);
				}
			}
			catch (SocketException ex) {
				if (received.size() == 0) {
					return new Response(RESET, "connection reset", "");
				}
			}
			String all = received.toString(StandardCharsets.ISO_8859_1);
			int end = all.indexOf("\r\n\r\n");
			String head = (end >= 0) ? all.substring(0, end) : all;
			String body = (end >= 0) ? all.substring(end + 4) : "";
			String[] statusLine = head.split(" ", 3);
			int status = (statusLine.length > 1) ? Integer.parseInt(statusLine[1]) : RESET;
			return new Response(status, head, body);
		}

	}

}
