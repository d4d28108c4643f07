package dev.keyauth.filter;

import java.net.URI;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.keyauth.filter.AmbiguousPathFilter.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;

class AmbiguousPathFilterTest {

	private final AtomicBoolean forwarded = new AtomicBoolean();

	private final GatewayFilterChain chain = (exchange) -> Mono.fromRunnable(() -> this.forwarded.set(true));

	private MockServerWebExchange run(AmbiguousPathFilter filter, String rawPath) {
		this.forwarded.set(false);
		MockServerWebExchange exchange = MockServerWebExchange
			.from(MockServerHttpRequest.method(HttpMethod.GET, URI.create("http://gateway" + rawPath)));
		StepVerifier.create(filter.filter(exchange, this.chain)).verifyComplete();
		return exchange;
	}

	private void expectRefused(AmbiguousPathFilter filter, String rawPath, String message) {
		MockServerWebExchange exchange = run(filter, rawPath);
		assertThat(this.forwarded).as(rawPath).isFalse();
		assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
		assertThat(exchange.getResponse().getHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_JSON);
		assertThat(exchange.getResponse().getBodyAsString().block())
			.startsWith("{\"error\":\"invalid_path\",\"message\":\"" + message);
	}

	private void expectRefusedWhateverIsAllowed(String rawPath, String message) {
		for (boolean allowEncodedSeparators : new boolean[] { false, true }) {
			expectRefused(new AmbiguousPathFilter(allowEncodedSeparators), rawPath, message);
		}
	}

	private void expectForwarded(AmbiguousPathFilter filter, String rawPath) {
		MockServerWebExchange exchange = run(filter, rawPath);
		assertThat(this.forwarded).as(rawPath).isTrue();
		assertThat(exchange.getResponse().getStatusCode()).isNull();
	}

	@ParameterizedTest
	@ValueSource(strings = { "/public/../orders/1", "/public/./x", "/orders/x/..", "/orders/x/.",
			"/public/%2e%2e/orders/1", "/public/%2E%2e/orders/1", "/public/.%2e/orders/1", "/public/%2e/x",
			"/public/..%2forders/1", "/public/..%2Forders/1", "/public/..%5corders/1", "/public/..;/orders/1",
			"/public/..;jsessionid=1/orders/1", "/public/..%3b/orders/1", "/public/%252e%252e/orders/1",
			"/public/%25252e%25252e/orders/1", "/public/.../orders/1", "/..", "/public/x/..%00" })
	void aPathWithADotSegmentIsRefusedWhateverIsAllowed(String rawPath) {
		expectRefusedWhateverIsAllowed(rawPath, "The request path must not contain '.' or '..' segments");
	}

	@ParameterizedTest
	@ValueSource(strings = { "/orders/admin%2Fy", "/orders/admin%2fy", "/orders%2Fadmin/y", "/orders/admin%5Cy",
			"/orders/admin%252Fy" })
	void aPercentEncodedSeparatorIsRefusedUnlessAllowed(String rawPath) {
		expectRefused(new AmbiguousPathFilter(), rawPath,
				"The request path must not contain a percent-encoded '/' or '\\\\' (%2F, %5C).");
		expectForwarded(new AmbiguousPathFilter(true), rawPath);
	}

	@ParameterizedTest
	@ValueSource(strings = { "/orders//admin/y", "//orders/1", "/orders/admin//", "/orders/;x/admin/y",
			"/orders/;/admin/y", "/;jsessionid=1/orders", "/orders//", "/a//..", "/orders//%2e/y" })
	void aPathWithAnEmptySegmentIsRefusedWhateverIsAllowed(String rawPath) {
		// The gateway's own forwarding collapses '//', so /orders//admin/y would miss the scoped
		// /orders/admin/** route, match /orders/** and still be sent as /orders/admin/y.
		expectRefusedWhateverIsAllowed(rawPath, "The request path must not contain empty segments ('//').");
	}

	@ParameterizedTest
	@ValueSource(strings = { "/orders/admin%00/y", "/orders/admin%00", "/orders/admin%0a/y", "/orders/admin%0D%0A/y",
			"/orders/admin%09", "/orders/a%7Fb", "/orders/admin%2500/y", "/orders/admin%00%2Fy" })
	void aPercentEncodedControlCharacterIsRefusedWhateverIsAllowed(String rawPath) {
		// A NUL ends the path for a server written in C: /orders/admin%00/y matches /orders/**
		// and could be served as /orders/admin.
		expectRefusedWhateverIsAllowed(rawPath, "The request path must not contain percent-encoded control characters");
	}

	@Test
	void anEmptySegmentMadeOnlyByDecodingIsTheEncodedSeparatorRule() {
		// Only literal slashes are collapsed on the way out; %2F stays as it is.
		expectRefused(new AmbiguousPathFilter(), "/files/%2Fetc%2Fhosts",
				"The request path must not contain a percent-encoded '/'");
		expectForwarded(new AmbiguousPathFilter(true), "/files/%2Fetc%2Fhosts");
		expectForwarded(new AmbiguousPathFilter(true), "/files/a%2F%2Fb");
	}

	@ParameterizedTest
	@ValueSource(strings = { "/orders/1", "/", "/files/report.pdf", "/v1.2/orders", "/orders/.well-known",
			"/orders/a..b", "/orders/..x", "/orders/x..", "/orders/a;b=1/c", "/orders/%41", "/orders/100%25",
			"/orders/%20space", "/orders/%E2%82%AC", "/orders/1/", "/app/;jsessionid=1", "/orders/%3Bx/admin" })
	void anyOtherPathIsForwardedUntouched(String rawPath) {
		expectForwarded(new AmbiguousPathFilter(), rawPath);
	}

	@ParameterizedTest
	@ValueSource(strings = { "/public/..\\orders/1", "/public/.\\x" })
	void aBackslashSeparatesSegmentsAsASlashDoes(String path) {
		// Not in a java.net.URI, but some servers accept it in a request line.
		assertThat(AmbiguousPathFilter.problemIn(path)).isEqualTo(Problem.DOT_SEGMENT);
	}

	@ParameterizedTest
	@ValueSource(strings = { "/orders/%zz", "/orders/%2", "/orders/%", "/orders/.%zz", "/orders/%2g." })
	void anInvalidEscapeIsKeptAsItIs(String path) {
		assertThat(AmbiguousPathFilter.problemIn(path)).isEqualTo(Problem.NONE);
	}

}
