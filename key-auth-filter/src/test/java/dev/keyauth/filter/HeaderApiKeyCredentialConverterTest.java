package dev.keyauth.filter;

import java.util.List;

import dev.keyauth.authentication.InvalidApiKeyException;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;

class HeaderApiKeyCredentialConverterTest {

	private static final String KEY = "sk_live_key";

	private final HeaderApiKeyCredentialConverter converter = new HeaderApiKeyCredentialConverter("Authorization",
			"X-API-Key");

	private static MockServerWebExchange exchange(MockServerHttpRequest.BaseBuilder<?> request) {
		return MockServerWebExchange.from(request);
	}

	@Test
	void aQueryParameterThatCarriesAKeyIsOneNameWithoutTheQuerysDelimiters() {
		assertThat(HeaderApiKeyCredentialConverter.isQueryParamName("api_key")).isTrue();
		for (String name : new String[] { "", "a b", "a&b", "a=b", "a#b", "k\u00e9y" }) {
			assertThat(HeaderApiKeyCredentialConverter.isQueryParamName(name)).as(name).isFalse();
		}
	}

	@Test
	void readsABearerToken() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("Authorization", "Bearer " + KEY))))
			.expectNext(new ApiKeyCredential(KEY, List.of("Authorization")))
			.verifyComplete();
	}

	@Test
	void theBearerSchemeIsCaseInsensitiveAndSurroundingSpaceIgnored() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("Authorization", "bEaReR   " + KEY + "  "))))
			.expectNext(new ApiKeyCredential(KEY, List.of("Authorization")))
			.verifyComplete();
	}

	@Test
	void readsTheApiKeyHeader() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("x-api-key", KEY))))
			.expectNext(new ApiKeyCredential(KEY, List.of("X-API-Key")))
			.verifyComplete();
	}

	@Test
	void theSameKeyInBothPlacesIsOneCredentialFromBoth() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer " + KEY)
				.header("X-API-Key", KEY))))
			.expectNext(new ApiKeyCredential(KEY, List.of("Authorization", "X-API-Key")))
			.verifyComplete();
	}

	@Test
	void twoDifferentKeysAreInvalid() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer " + KEY)
				.header("X-API-Key", KEY + "2"))))
			.verifyError(InvalidApiKeyException.class);
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("X-API-Key", KEY, KEY + "2"))))
			.verifyError(InvalidApiKeyException.class);
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer " + KEY, "Bearer " + KEY + "2"))))
			.verifyError(InvalidApiKeyException.class);
	}

	@Test
	void emptyValuesAreInvalidNotMissing() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("Authorization", "Bearer"))))
			.verifyError(InvalidApiKeyException.class);
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("Authorization", "Bearer    "))))
			.verifyError(InvalidApiKeyException.class);
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("X-API-Key", "  "))))
			.verifyError(InvalidApiKeyException.class);
	}

	@Test
	void otherAuthorizationSchemesAreNotOurs() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("Authorization", "Basic dXNlcjpwYXNz"))))
			.verifyComplete();
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/").header("Authorization", "Bearerish " + KEY))))
			.verifyComplete();
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Basic dXNlcjpwYXNz")
				.header("X-API-Key", KEY))))
			.expectNext(new ApiKeyCredential(KEY, List.of("X-API-Key")))
			.verifyComplete();
	}

	@Test
	void aBearerTokenWithoutTheKeysPrefixIsLeftToTheServiceWhenAKeyComesElsewhere() {
		HeaderApiKeyCredentialConverter prefixed = new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key",
				"api_key", "sk_live_");
		StepVerifier.create(prefixed.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer eyJhbGciOi.e30.sig")
				.header("X-API-Key", KEY))))
			.expectNext(new ApiKeyCredential(KEY, List.of("X-API-Key")))
			.verifyComplete();
		StepVerifier.create(prefixed.convert(exchange(MockServerHttpRequest.get("/?api_key=" + KEY)
				.header("Authorization", "Bearer eyJhbGciOi.e30.sig", "Bearer other-token"))))
			.expectNext(new ApiKeyCredential(KEY, List.of(), "api_key"))
			.verifyComplete();
		// Alone, it is what the client presents as its key, and is refused as a malformed one.
		StepVerifier.create(prefixed.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer eyJhbGciOi.e30.sig"))))
			.expectNext(new ApiKeyCredential("eyJhbGciOi.e30.sig", List.of("Authorization")))
			.verifyComplete();
		StepVerifier.create(prefixed.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer one-token", "Bearer another-token"))))
			.verifyError(InvalidApiKeyException.class);
		// Next to a key in the same header, it is a second credential, as any other would be.
		StepVerifier.create(prefixed.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer " + KEY, "Bearer eyJhbGciOi.e30.sig"))))
			.verifyError(InvalidApiKeyException.class);
		// Keys of the gateway's prefix still have to agree, whatever comes with them.
		StepVerifier.create(prefixed.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer " + KEY + "2", "Bearer eyJhbGciOi.e30.sig")
				.header("X-API-Key", KEY))))
			.verifyError(InvalidApiKeyException.class);
		// An X-API-Key value is always read as a key: the header is the gateway's.
		StepVerifier.create(prefixed.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer " + KEY)
				.header("X-API-Key", "not-a-key"))))
			.verifyError(InvalidApiKeyException.class);
	}

	@Test
	void withoutAPrefixEveryBearerTokenIsAKey() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/")
				.header("Authorization", "Bearer eyJhbGciOi.e30.sig")
				.header("X-API-Key", KEY))))
			.verifyError(InvalidApiKeyException.class);
	}

	@Test
	void onARouteWithoutKeyAuthEverySourceCarryingAKeyIsFoundEvenWhenTheyDisagree() {
		HeaderApiKeyCredentialConverter prefixed = new HeaderApiKeyCredentialConverter("Authorization", "X-API-Key",
				"api_key", "sk_live_");
		// Answered at once (ReadyValues reads only a complete Mono), so the filter needs no chain.
		assertThat(ReadyValues.now(prefixed.keysOnRouteWithoutKeyAuth(exchange(MockServerHttpRequest
			.get("/?api_key=" + KEY + "3")
			.header("Authorization", "Bearer " + KEY, "Bearer eyJhbGciOi.e30.sig")
			.header("X-API-Key", KEY + "2", "")))))
			.isEqualTo(new ApiKeyCredential(KEY, List.of("Authorization", "X-API-Key"), "api_key"));
		assertThat(ReadyValues.now(prefixed.keysOnRouteWithoutKeyAuth(exchange(MockServerHttpRequest.get("/")
			.header("X-API-Key", KEY, " " + KEY + "2 "))))).isEqualTo(new ApiKeyCredential(KEY, List.of("X-API-Key")));
		// Values of another prefix, and tokens of other schemes, are not this gateway's.
		assertThat(prefixed.keysOnRouteWithoutKeyAuth(exchange(MockServerHttpRequest.get("/?api_key=theirs")
			.header("Authorization", "Bearer eyJhbGciOi.e30.sig", "Basic " + KEY)
			.header("X-API-Key", "theirs")))).isSameAs(Mono.empty());
		// Without a prefix to tell keys by, what convert answers.
		assertThat(ReadyValues.now(this.converter.keysOnRouteWithoutKeyAuth(exchange(MockServerHttpRequest.get("/")
			.header("X-API-Key", KEY))))).isEqualTo(new ApiKeyCredential(KEY, List.of("X-API-Key")));
		StepVerifier.create(this.converter.keysOnRouteWithoutKeyAuth(exchange(MockServerHttpRequest.get("/")
			.header("X-API-Key", KEY, KEY + "2")))).verifyError(InvalidApiKeyException.class);
	}

	@Test
	void noKeyAtAllCompletesEmpty() {
		StepVerifier.create(this.converter.convert(exchange(MockServerHttpRequest.get("/")))).verifyComplete();
	}

	@Test
	void headerNamesAreConfigurableAndASourceCanBeTurnedOff() {
		HeaderApiKeyCredentialConverter custom = new HeaderApiKeyCredentialConverter("", "X-Key");
		StepVerifier.create(custom.convert(exchange(MockServerHttpRequest.get("/").header("Authorization", "Bearer " + KEY))))
			.verifyComplete();
		StepVerifier.create(custom.convert(exchange(MockServerHttpRequest.get("/").header("X-Key", KEY))))
			.expectNext(new ApiKeyCredential(KEY, List.of("X-Key")))
			.verifyComplete();
	}

	@Test
	void theCredentialNeverPrintsTheKey() {
		org.assertj.core.api.Assertions.assertThat(new ApiKeyCredential(KEY, List.of("X-API-Key")).toString())
			.doesNotContain(KEY);
	}

}
