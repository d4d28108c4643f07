package dev.keyauth.ratelimit;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.filter.ApiKeyAuthenticationFilter;
import dev.keyauth.filter.IdentityHeaders;
import dev.keyauth.store.ApiKey;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;

class ApiKeyResolverTest {

	private final ApiKeyResolver resolver = new ApiKeyResolver();

	private static MockServerWebExchange exchange() {
		return MockServerWebExchange.from(MockServerHttpRequest.get("/"));
	}

	@Test
	void anAuthenticatedRequestIsCountedAgainstItsKey() {
		ApiKey key = new ApiKey(UUID.randomUUID(), "sk_live_abcd", "acme", null, List.of(), Map.of(), Instant.EPOCH,
				null, null, null);
		MockServerWebExchange exchange = exchange();
		exchange.getAttributes().put(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR, key);
		StepVerifier.create(this.resolver.resolve(exchange)).expectNext(key.id().toString()).verifyComplete();
	}

	@Test
	void anonymousRequestsShareTheirConsumersBucket() {
		ServerWebExchange forwarded = new IdentityHeaders("X-Consumer-Id", "X-Api-Key-Id", "X-Api-Key-Scopes", true)
			.anonymous(exchange(), "guest");
		StepVerifier.create(this.resolver.resolve(forwarded)).expectNext("anonymous:guest").verifyComplete();
	}

	@Test
	void aRequestWithoutAKeyOrAnonymousConsumerResolvesNothing() {
		// RequestRateLimiter refuses an empty key by default: a per-key limit is never skipped.
		StepVerifier.create(this.resolver.resolve(exchange())).verifyComplete();
	}

}
