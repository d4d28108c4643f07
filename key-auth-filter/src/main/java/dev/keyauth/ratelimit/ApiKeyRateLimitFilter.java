package dev.keyauth.ratelimit;

import java.nio.charset.StandardCharsets;

import dev.keyauth.filter.ApiKeyAuthenticationFilter;
import dev.keyauth.filter.IdentityHeaders;
import dev.keyauth.filter.ReadyValues;
import dev.keyauth.filter.Refusals;
import dev.keyauth.filter.RouteKeyAuthPolicies;
import dev.keyauth.filter.RouteKeyAuthPolicy;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.ratelimit.ApiKeyRateLimiter.Decision;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.RateLimit;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;

/**
 * Per-key rate limits, right after authentication: the key's own limit (or the configured
 * default) over all routes, and the route's limit ({@code keyauth.rate-limit} in its metadata)
 * per key on that route. Answers 429 with {@code Retry-After} and the gateway's standard
 * {@code X-RateLimit-*} headers.
 * <p>
 * Requests a route lets through as its anonymous consumer are held to the route's limit too, all
 * of them in one bucket: without a key there is no one else to count them against, and a limited
 * route must not be unlimited to whoever sends no key.
 */
public class ApiKeyRateLimitFilter implements GlobalFilter, Ordered {

	/** Immediately after {@link ApiKeyAuthenticationFilter#KEY_AUTH_FILTER_ORDER}. */
	public static final int RATE_LIMIT_FILTER_ORDER = ApiKeyAuthenticationFilter.KEY_AUTH_FILTER_ORDER + 1;

	private static final byte[] BODY = ("{\"error\":\"rate_limited\",\"message\":\"Too many requests for this API key. "
			+ "Retry after the time in the Retry-After header.\"}")
		.getBytes(StandardCharsets.UTF_8);

	private static final byte[] ANONYMOUS_BODY = ("{\"error\":\"rate_limited\",\"message\":\"Too many requests "
			+ "without an API key on this route. Retry after the time in the Retry-After header, or send a key.\"}")
		.getBytes(StandardCharsets.UTF_8);

	private final ApiKeyRateLimiter limiter;

	private final RouteKeyAuthPolicies policies;

	private final @Nullable RateLimit defaultLimit;

	private final KeyAuthMetrics metrics;

	private final boolean includeHeaders;

	public ApiKeyRateLimitFilter(ApiKeyRateLimiter limiter, RouteKeyAuthPolicies policies,
			@Nullable RateLimit defaultLimit, KeyAuthMetrics metrics) {
		this(limiter, policies, defaultLimit, metrics, true);
	}

	/**
	 * @param includeHeaders whether responses carry the {@code X-RateLimit-*} headers (429s
	 * always carry {@code Retry-After})
	 */
	public ApiKeyRateLimitFilter(ApiKeyRateLimiter limiter, RouteKeyAuthPolicies policies,
			@Nullable RateLimit defaultLimit, KeyAuthMetrics metrics, boolean includeHeaders) {
		this.includeHeaders = includeHeaders;
		this.limiter = limiter;
		this.policies = policies;
		this.defaultLimit = defaultLimit;
		this.metrics = metrics;
	}

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
		ApiKey key = exchange.getAttribute(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR);
		if (key == null) {
			return anonymous(exchange, chain);
		}
		RateLimit keyLimit = (key.rateLimit() != null) ? key.rateLimit() : this.defaultLimit;
		RouteKeyAuthPolicy policy = this.policies.forExchange(exchange);
		RateLimit routeLimit = policy.rateLimit();
		if (keyLimit == null && routeLimit == null) {
			return chain.filter(exchange);
		}
		String keyId = key.id().toString();
		Mono<Decision> decision;
		if (keyLimit != null && routeLimit != null) {
			// The route's bucket is only charged for requests the key's own limit let through.
			decision = this.limiter.consume("key:" + keyId, keyLimit)
				.flatMap((byKey) -> byKey.allowed()
						? this.limiter.consume("route:" + RouteKeyAuthPolicies.routeId(exchange) + ":" + keyId, routeLimit)
						: Mono.just(byKey));
		}
		else if (keyLimit != null) {
			decision = this.limiter.consume("key:" + keyId, keyLimit);
		}
		else {
			decision = this.limiter.consume("route:" + RouteKeyAuthPolicies.routeId(exchange) + ":" + keyId, routeLimit);
		}
		return decide(exchange, chain, decision, BODY);
	}

	/**
	 * A request without an authenticated key: counted only if it was forwarded as the route's
	 * anonymous consumer, which the exchange records; a public route's requests are not looked
	 * at further (no policy lookup).
	 */
	private Mono<Void> anonymous(ServerWebExchange exchange, GatewayFilterChain chain) {
		if (IdentityHeaders.anonymousConsumer(exchange) == null) {
			return chain.filter(exchange);
		}
		RateLimit routeLimit = this.policies.forExchange(exchange).rateLimit();
		if (routeLimit == null) {
			return chain.filter(exchange);
		}
		return decide(exchange, chain,
				this.limiter.consume("anonymous:" + RouteKeyAuthPolicies.routeId(exchange), routeLimit), ANONYMOUS_BODY);
	}

	private Mono<Void> decide(ServerWebExchange exchange, GatewayFilterChain chain, Mono<Decision> decision,
			byte[] refusal) {
		Decision decided = ReadyValues.now(decision);
		if (decided != null) {
			// Decided from this instance's local allowance: no operator chain needed.
			return apply(exchange, chain, decided, refusal);
		}
		return decision.flatMap((outcome) -> apply(exchange, chain, outcome, refusal));
	}

	private Mono<Void> apply(ServerWebExchange exchange, GatewayFilterChain chain, Decision outcome, byte[] refusal) {
		if (this.includeHeaders) {
			addHeaders(exchange.getResponse(), outcome);
		}
		if (outcome.allowed()) {
			return chain.filter(exchange);
		}
		this.metrics.rateLimited();
		return Refusals.afterRequestRead(exchange, () -> refuse(exchange.getResponse(), refusal));
	}

	private static void addHeaders(ServerHttpResponse response, Decision decision) {
		if (decision.remaining() < 0) {
			return;
		}
		HttpHeaders headers = response.getHeaders();
		headers.set(RedisRateLimiter.REMAINING_HEADER, Long.toString(decision.remaining()));
		headers.set(RedisRateLimiter.REPLENISH_RATE_HEADER, Integer.toString(decision.limit().requestsPerSecond()));
		headers.set(RedisRateLimiter.BURST_CAPACITY_HEADER, Integer.toString(decision.limit().burst()));
		headers.set(RedisRateLimiter.REQUESTED_TOKENS_HEADER, "1");
	}

	private static Mono<Void> refuse(ServerHttpResponse response, byte[] body) {
		response.setStatusCode(HttpStatus.TOO_MANY_REQUESTS);
		HttpHeaders headers = response.getHeaders();
		// The script refills once per second.
		headers.set(HttpHeaders.RETRY_AFTER, "1");
		headers.setContentType(MediaType.APPLICATION_JSON);
		headers.setContentLength(body.length);
		return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
	}

	@Override
	public int getOrder() {
		return RATE_LIMIT_FILTER_ORDER;
	}

}
