package dev.keyauth.filter;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;

/** When a refusal is written: after a bodiless request's end, at once (closing) for one with a body. */
class RefusalsTest {

	@Test
	void aBodilessRequestIsReadToItsEndBeforeTheRefusalIsWritten() {
		// The request's (empty) end has not arrived yet: the server has not read it.
		Sinks.Empty<DataBuffer> end = Sinks.empty();
		MockServerWebExchange exchange = MockServerWebExchange
			.from(MockServerHttpRequest.method(HttpMethod.GET, "/").body(end.asMono().flux()));
		AtomicBoolean written = new AtomicBoolean();
		StepVerifier.create(Refusals.afterRequestRead(exchange, () -> Mono.fromRunnable(() -> written.set(true))))
			.then(() -> assertThat(written).as("written before the request's end").isFalse())
			.then(end::tryEmitEmpty)
			.verifyComplete();
		assertThat(written).isTrue();
		assertThat(exchange.getResponse().getHeaders().containsHeader(HttpHeaders.CONNECTION)).isFalse();
	}

	@Test
	void aRequestWithABodyIsRefusedAtOnceAndItsConnectionClosed() {
		Sinks.Empty<DataBuffer> neverRead = Sinks.empty();
		MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/")
			.contentLength(3)
			.body(neverRead.asMono().flux()
				.concatWithValues(DefaultDataBufferFactory.sharedInstance.wrap("abc".getBytes(StandardCharsets.UTF_8)))));
		AtomicBoolean written = new AtomicBoolean();
		StepVerifier.create(Refusals.afterRequestRead(exchange, () -> Mono.fromRunnable(() -> written.set(true))))
			.verifyComplete();
		assertThat(written).isTrue();
		assertThat(exchange.getResponse().getHeaders().getFirst(HttpHeaders.CONNECTION)).isEqualTo("close");
	}

}
