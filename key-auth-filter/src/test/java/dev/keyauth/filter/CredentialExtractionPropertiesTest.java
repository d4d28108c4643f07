package dev.keyauth.filter;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import dev.keyauth.authentication.LookupApiKeyAuthenticator;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property tests: credential extraction under generated header values, through the whole filter (converter, the
 * real format check and checksum, a lookup that knows one valid key, the failure handler): every
 * request without exactly that key is refused with the one 401 body, and nothing reaches the
 * chain. Bytes the HTTP server itself refuses (invalid UTF-8, headers beyond its limit) are
 * covered end to end in {@code HostileRequestsTest}.
 * <p>
 * Inputs come from a seeded generator; a failure names its seed and case. Rerun one with
 * {@code -Dkeyauth.test.seed=<seed>}.
 */
class CredentialExtractionPropertiesTest {

	private static final ApiKeyFormat FORMAT = new ApiKeyFormat("sk_live_");

	private static final String VALID = new ApiKeyGenerator(FORMAT).generateKey();

	/** Well-formed, with a correct checksum, for another prefix. */
	private static final String OTHER_PREFIX = new ApiKeyGenerator(new ApiKeyFormat("sk_test_")).generateKey();

	private static final ApiKey KEY = new ApiKey(UUID.randomUUID(), FORMAT.visibleStart(VALID), "acme", null,
			List.of(), Map.of(), Instant.EPOCH, null, null, null);

	private static final JsonMapper JSON = new JsonMapper();

	private final AtomicInteger forwarded = new AtomicInteger();

	private final GatewayFilterChain chain = (exchange) -> {
		this.forwarded.incrementAndGet();
		return Mono.empty();
	};

	private final ApiKeyAuthenticationFilter filter = new ApiKeyAuthenticationFilter(
			new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key"),
			new LookupApiKeyAuthenticator(FORMAT,
					(hash) -> hash.equals(KeyHash.sha256(VALID)) ? Mono.just(KEY) : Mono.empty(), Clock.systemUTC(),
					Duration.ofSeconds(1)),
			new JsonKeyAuthFailureHandler("api", "Send a key.", Duration.ofSeconds(7), JSON),
			new IdentityHeaders("X-Consumer-Id", "X-Api-Key-Id", "X-Api-Key-Scopes", true));

	private final byte[] invalidKeyBody = refusalBody(VALID.substring(1));

	@Test
	void anythingButTheKeyIsRefusedWithTheSame401() {
		Random random = new Random(SEED);
		for (int i = 0; i < 1000; i++) {
			List<String> authorization = values(random, random.nextInt(4));
			List<String> apiKey = values(random, random.nextInt(4));
			String sample = "seed " + SEED + ", case " + i + ": Authorization " + abbreviate(authorization)
					+ ", X-API-Key " + abbreviate(apiKey);
			this.forwarded.set(0);
			MockServerHttpRequest.BaseBuilder<?> request = MockServerHttpRequest.get("/orders");
			if (!authorization.isEmpty()) {
				request.header(HttpHeaders.AUTHORIZATION, authorization.toArray(String[]::new));
			}
			if (!apiKey.isEmpty()) {
				request.header("X-API-Key", apiKey.toArray(String[]::new));
			}
			MockServerWebExchange exchange = MockServerWebExchange.from(request);
			this.filter.filter(exchange, this.chain).block(Duration.ofSeconds(5));

			assertThat(this.forwarded).as(sample).hasValue(0);
			assertThat(exchange.getResponse().getStatusCode()).as(sample).isEqualTo(HttpStatus.UNAUTHORIZED);
			assertThat(exchange.getResponse().getHeaders().getFirst(HttpHeaders.WWW_AUTHENTICATE)).as(sample)
				.startsWith("Bearer");
			byte[] body = exchange.getResponse().getBodyAsString().block(Duration.ofSeconds(5))
				.getBytes(StandardCharsets.UTF_8);
			if (authorization.stream().noneMatch(CredentialExtractionPropertiesTest::isBearer) && apiKey.isEmpty()) {
				// Nothing that could carry a key (another scheme, or no header): the missing-key 401.
				assertThat(JSON.readTree(body).get("error").asString()).as(sample).isEqualTo("missing_api_key");
			}
			else {
				assertThat(body).as(sample).isEqualTo(this.invalidKeyBody);
			}
		}
	}

	@Test
	void theKeyNextToAnyOtherCredentialIsRefused() {
		Random random = new Random(SEED);
		for (int i = 0; i < 500; i++) {
			String other = value(random);
			boolean keyAsBearer = random.nextBoolean();
			String sample = "seed " + SEED + ", case " + i + ": " + abbreviate(List.of(other));
			this.forwarded.set(0);
			MockServerHttpRequest.BaseBuilder<?> request = MockServerHttpRequest.get("/orders");
			if (keyAsBearer) {
				request.header(HttpHeaders.AUTHORIZATION, "Bearer " + VALID).header("X-API-Key", other);
			}
			else {
				request.header("X-API-Key", VALID, other);
			}
			MockServerWebExchange exchange = MockServerWebExchange.from(request);
			this.filter.filter(exchange, this.chain).block(Duration.ofSeconds(5));
			if (other.strip().equals(VALID)) {
				// The same key twice is the same credential, not a conflict.
				assertThat(this.forwarded).as(sample).hasValue(1);
				continue;
			}
			assertThat(this.forwarded).as(sample).hasValue(0);
			assertThat(exchange.getResponse().getStatusCode()).as(sample).isEqualTo(HttpStatus.UNAUTHORIZED);
		}
	}

	@Test
	void theGeneratorReachesTheCasesItIsMeantTo() {
		// A property test is only as good as its inputs: check they include the hard cases.
		Random random = new Random(SEED);
		List<String> values = values(random, 5000);
		assertThat(values).anyMatch((v) -> v.chars().anyMatch((c) -> c < 0x20));
		assertThat(values).anyMatch((v) -> v.chars().anyMatch((c) -> c > 0x7f));
		assertThat(values).anyMatch((v) -> v.length() >= 8000);
		assertThat(values).anyMatch(String::isBlank);
		assertThat(values).anyMatch((v) -> v.startsWith("Basic "));
		assertThat(values).anyMatch((v) -> v.length() == VALID.length() + 1 && v.startsWith("sk_live_"));
		assertThat(values).anyMatch((v) -> v.length() == VALID.length() - 1 && v.startsWith("sk_live_"));
		assertThat(values).anyMatch((v) -> v.endsWith(OTHER_PREFIX));
		assertThat(values).noneMatch((v) -> v.strip().equals(VALID) || v.strip().equals("Bearer " + VALID));
	}

	private byte[] refusalBody(String key) {
		MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/").header("X-API-Key",
				key));
		this.filter.filter(exchange, this.chain).block(Duration.ofSeconds(5));
		return exchange.getResponse().getBodyAsString().block(Duration.ofSeconds(5)).getBytes(StandardCharsets.UTF_8);
	}

	private static boolean isBearer(String value) {
		return value.regionMatches(true, 0, "Bearer", 0, 6)
				&& (value.length() == 6 || Character.isWhitespace(value.charAt(6)));
	}

	private static final long SEED = Long.getLong("keyauth.test.seed", System.nanoTime());

	private static final String[] SCHEMES = { "", "Bearer ", "bearer ", "BEARER ", "Bearer Bearer ", "Bearer",
			"Bearer\t", "Basic ", "Digest ", "Token ", "ApiKey ", " Bearer " };

	private static List<String> values(Random random, int count) {
		List<String> values = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			values.add(value(random));
		}
		return values;
	}

	/** A header value: a scheme (or none) and one of the kinds of text a hostile client sends. */
	private static String value(Random random) {
		String scheme = SCHEMES[random.nextInt(SCHEMES.length)];
		String raw = switch (random.nextInt(10)) {
			// anything at all from the Basic Multilingual Plane, unpaired surrogates included
			case 0 -> text(random, 80, 0, 0xffff);
			case 1 -> text(random, 8, 0, 0x1f);
			case 2 -> text(random, 6, ' ', ' ') + text(random, 3, '\t', '\t');
			case 3 -> text(random, 60, 0x80, 0xffff);
			case 4 -> nearMiss(random);
			case 5 -> OTHER_PREFIX;
			case 6 -> VALID.toLowerCase();
			case 7 -> "a".repeat(8000) + text(random, 1000, 'a', 'z');
			case 8 -> VALID.repeat(200);
			default -> "";
		};
		return scheme + raw;
	}

	private static String text(Random random, int maxLength, int from, int to) {
		char[] chars = new char[random.nextInt(maxLength + 1)];
		for (int i = 0; i < chars.length; i++) {
			chars[i] = (char) (from + random.nextInt(to - from + 1));
		}
		return new String(chars);
	}

	/** The valid key with one character too many, one too few, or one replaced. */
	private static String nearMiss(Random random) {
		String alphabet = "abcXYZ019_- \u00e9";
		while (true) {
			int i = random.nextInt(VALID.length());
			char c = alphabet.charAt(random.nextInt(alphabet.length()));
			String candidate = switch (random.nextInt(3)) {
				case 0 -> VALID.substring(0, i) + c + VALID.substring(i);
				case 1 -> VALID.substring(0, i) + VALID.substring(i + 1);
				default -> VALID.substring(0, i) + c + VALID.substring(i + 1);
			};
			// Whitespace around the key is not part of it.
			if (!candidate.strip().equals(VALID)) {
				return candidate;
			}
		}
	}

	private static String abbreviate(List<String> values) {
		List<String> shown = new ArrayList<>();
		for (String value : values) {
			String escaped = value.chars()
				.mapToObj((c) -> (c < 0x20 || c > 0x7e) ? String.format("\\u%04x", c) : String.valueOf((char) c))
				.collect(Collectors.joining());
			shown.add((escaped.length() > 100) ? escaped.substring(0, 100) + "...(" + value.length() + " chars)"
					: escaped);
		}
		return shown.toString();
	}

}
