package dev.keyauth.filter;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import dev.keyauth.authentication.ApiKeyAuthenticator;
import dev.keyauth.authentication.InsufficientScopeException;
import dev.keyauth.authentication.KeyAuthUnavailableException;
import dev.keyauth.authentication.KeyAuthenticationException;
import dev.keyauth.authentication.MissingApiKeyException;
import dev.keyauth.authentication.RouteMisconfiguredException;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.metrics.KeyAuthMetrics.Outcome;
import dev.keyauth.store.ApiKey;
import dev.keyauth.usage.KeyUsageRecorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.Fuseable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SynchronousSink;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.NettyWriteResponseFilter;
import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;

/**
 * Authenticates every routed request by API key before it is forwarded, and applies the route's
 * policy (required scopes, anonymous consumer).
 * <p>
 * The work is split the way Spring Security's {@code AuthenticationWebFilter} splits it: an
 * {@link ApiKeyCredentialConverter} finds the key, an {@link ApiKeyAuthenticator} decides, a
 * {@link KeyAuthFailureHandler} answers refusals, and {@link IdentityHeaders} shapes what the
 * downstream service sees. Each is a bean that can be replaced.
 */
public class ApiKeyAuthenticationFilter implements GlobalFilter, Ordered {

	/**
	 * Order of this filter: ahead of the gateway's response writer
	 * ({@link NettyWriteResponseFilter#WRITE_RESPONSE_FILTER_ORDER}, -1), its metrics filter (0)
	 * and every route filter (which the gateway orders 1, 2, ... as declared), so that refused
	 * requests never reach a route filter and route filters such as {@code RequestRateLimiter}
	 * can read the authenticated key.
	 */
	public static final int KEY_AUTH_FILTER_ORDER = NettyWriteResponseFilter.WRITE_RESPONSE_FILTER_ORDER - 100;

	/**
	 * Exchange attribute holding the authenticated {@link ApiKey}, for filters that run later.
	 * Absent on routes that do not require a key and for anonymous requests.
	 */
	public static final String AUTHENTICATED_API_KEY_ATTR = ApiKeyAuthenticationFilter.class.getName()
			+ ".authenticatedApiKey";

	/** Exchange attribute holding the route's {@link RouteKeyAuthPolicy}. */
	public static final String KEY_AUTH_POLICY_ATTR = ApiKeyAuthenticationFilter.class.getName() + ".policy";

	private static final Logger logger = LoggerFactory.getLogger(ApiKeyAuthenticationFilter.class);

	private static final Mono<ServerWebExchange> MISSING = Mono.error(MissingApiKeyException.INSTANCE);

	private final RouteKeyAuthPolicies policies;

	private final ApiKeyCredentialConverter credentialConverter;

	private final ApiKeyAuthenticator authenticator;

	private final KeyAuthFailureHandler failureHandler;

	private final IdentityHeaders identityHeaders;

	private final Options options;

	private final KeyUsageRecorder usage;

	private final KeyAuthMetrics metrics;

	public ApiKeyAuthenticationFilter(ApiKeyCredentialConverter credentialConverter, ApiKeyAuthenticator authenticator,
			KeyAuthFailureHandler failureHandler, IdentityHeaders identityHeaders) {
		this(new RouteKeyAuthPolicies(), credentialConverter, authenticator, failureHandler, identityHeaders,
				Options.DEFAULTS, KeyUsageRecorder.NONE, KeyAuthMetrics.NONE);
	}

	public ApiKeyAuthenticationFilter(RouteKeyAuthPolicies policies, ApiKeyCredentialConverter credentialConverter,
			ApiKeyAuthenticator authenticator, KeyAuthFailureHandler failureHandler, IdentityHeaders identityHeaders,
			Options options, KeyUsageRecorder usage, KeyAuthMetrics metrics) {
		this.metrics = metrics;
		this.policies = policies;
		this.credentialConverter = credentialConverter;
		this.authenticator = authenticator;
		this.failureHandler = failureHandler;
		this.identityHeaders = identityHeaders;
		this.options = options;
		this.usage = usage;
	}

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
		RouteKeyAuthPolicy policy = this.policies.forExchange(exchange);
		if (!policy.enabled()) {
			return withoutKeyAuth(exchange, chain);
		}
		exchange.getAttributes().put(KEY_AUTH_POLICY_ATTR, policy);
		long start = System.nanoTime();
		if (policy.misconfiguration() != null) {
			// Fail closed: settings the gateway could not read must not become a weaker policy.
			return refuse(exchange, RouteMisconfiguredException.INSTANCE, start);
		}
		Mono<ApiKeyCredential> credential = this.credentialConverter.convert(exchange);
		Mono<ServerWebExchange> forwarded;
		ApiKeyCredential ready = ReadyValues.now(credential);
		if (ready != null) {
			Mono<ApiKey> answer = this.authenticator.authenticate(ready.key());
			ServerWebExchange now = authenticatedNow(exchange, policy, ready, answer);
			if (now != null) {
				// The common case, decided without an operator chain: a cache hit on a good key.
				this.metrics.authentication(Outcome.VALID, System.nanoTime() - start);
				return chain.filter(now);
			}
			forwarded = checked(exchange, policy, ready, answer);
		}
		else {
			forwarded = credential
				.flatMap((presented) -> checked(exchange, policy, presented,
						this.authenticator.authenticate(presented.key())))
				.switchIfEmpty(Mono.defer(() -> anonymousOrMissing(exchange, policy)));
		}
		// Errors from the chain itself are not caught here: onErrorResume sits before flatMap.
		return forwarded
			.doOnNext((authenticated) -> this.metrics.authentication(
					authenticated.getAttributes().containsKey(AUTHENTICATED_API_KEY_ATTR) ? Outcome.VALID
							: Outcome.ANONYMOUS,
					System.nanoTime() - start))
			.onErrorResume(KeyAuthenticationException.class,
					(failure) -> refuse(exchange, failure, start).then(Mono.empty()))
			.flatMap(chain::filter);
	}

	/**
	 * A route that needs no key: forwarded without spoofed identity, and without any of this
	 * gateway's keys (by their prefix) the client sent all the same. Other bearer tokens are the
	 * downstream service's business.
	 */
	private Mono<Void> withoutKeyAuth(ServerWebExchange exchange, GatewayFilterChain chain) {
		Mono<ApiKeyCredential> keys = this.credentialConverter.keysOnRouteWithoutKeyAuth(exchange);
		if (keys instanceof Fuseable.ScalarCallable<?>) {
			// Answered at once, as the default converter always answers: no operator chain.
			return chain.filter(this.identityHeaders.withoutKeyAuth(exchange, ours(ReadyValues.now(keys))));
		}
		// A converter of the application's own that answers later: waited for, so that a key it
		// finds is not forwarded either. Its errors are not the route's: the request goes on.
		return keys.onErrorResume((ex) -> Mono.empty())
			.map((key) -> this.identityHeaders.withoutKeyAuth(exchange, ours(key)))
			.switchIfEmpty(Mono.fromSupplier(() -> this.identityHeaders.withoutKeyAuth(exchange, null)))
			.flatMap(chain::filter);
	}

	private @Nullable ApiKeyCredential ours(@Nullable ApiKeyCredential credential) {
		return (credential != null && credential.key().startsWith(this.options.keyPrefix())) ? credential : null;
	}

	private Mono<Void> refuse(ServerWebExchange exchange, KeyAuthenticationException failure, long start) {
		this.metrics.authentication(outcomeOf(failure), System.nanoTime() - start);
		logRefusal(exchange, failure);
		return Refusals.afterRequestRead(exchange, () -> this.failureHandler.onAuthenticationFailure(exchange, failure));
	}

	/** The exchange to forward once the key's answer arrives and passes the route's scopes. */
	private Mono<ServerWebExchange> checked(ServerWebExchange exchange, RouteKeyAuthPolicy policy,
			ApiKeyCredential presented, Mono<ApiKey> answer) {
		return answer
			.handle((ApiKey key, SynchronousSink<ApiKey> sink) -> requireScopes(policy.requiredScopes(), key, sink))
			.map((key) -> authenticated(exchange, presented, key));
	}

	/**
	 * The exchange to forward if the key's answer is already here (a cache hit) and the key is
	 * good for this route; {@code null} for anything else, which takes the general path with the
	 * same answer.
	 */
	private @Nullable ServerWebExchange authenticatedNow(ServerWebExchange exchange, RouteKeyAuthPolicy policy,
			ApiKeyCredential presented, Mono<ApiKey> answer) {
		ApiKey key = ReadyValues.now(answer);
		if (key == null) {
			return null;
		}
		List<String> required = policy.requiredScopes();
		if (!required.isEmpty() && !key.scopes().containsAll(required)) {
			return null;
		}
		return authenticated(exchange, presented, key);
	}

	private static Outcome outcomeOf(KeyAuthenticationException failure) {
		if (failure instanceof MissingApiKeyException) {
			return Outcome.MISSING;
		}
		if (failure instanceof InsufficientScopeException) {
			return Outcome.FORBIDDEN;
		}
		if (failure instanceof RouteMisconfiguredException) {
			return Outcome.MISCONFIGURED;
		}
		return (failure instanceof KeyAuthUnavailableException) ? Outcome.UNAVAILABLE : Outcome.INVALID;
	}

	private static void logRefusal(ServerWebExchange exchange, KeyAuthenticationException failure) {
		if (logger.isDebugEnabled()) {
			logger.atDebug()
				.addKeyValue("keyauth.outcome", outcomeOf(failure).tag())
				.addKeyValue("keyauth.route", RouteKeyAuthPolicies.routeId(exchange))
				.log("API key request refused: {}", outcomeOf(failure).tag());
		}
	}

	private static void requireScopes(List<String> required, ApiKey key, SynchronousSink<ApiKey> sink) {
		if (required.isEmpty() || key.scopes().containsAll(required)) {
			sink.next(key);
		}
		else {
			sink.error(new InsufficientScopeException(required));
		}
	}

	/**
	 * No key: a route with an anonymous consumer lets the request through as that consumer. A
	 * bad key never gets here: it is a 401 even on such a route (unlike Kong, which would treat
	 * it as anonymous), so a client with a broken key finds out instead of silently losing access.
	 */
	private Mono<ServerWebExchange> anonymousOrMissing(ServerWebExchange exchange, RouteKeyAuthPolicy policy) {
		if (policy.anonymousConsumer() == null) {
			return MISSING;
		}
		return Mono.just(this.identityHeaders.anonymous(exchange, policy.anonymousConsumer()));
	}

	private ServerWebExchange authenticated(ServerWebExchange exchange, ApiKeyCredential credential, ApiKey key) {
		ServerWebExchange forwarded = this.identityHeaders.authenticated(exchange, credential, key);
		forwarded.getAttributes().put(AUTHENTICATED_API_KEY_ATTR, key);
		this.usage.record(key.id());
		if (logger.isDebugEnabled()) {
			// The key's id and consumer, never the key: structured logs get them as fields.
			logger.atDebug()
				.addKeyValue("keyauth.key_id", key.id())
				.addKeyValue("keyauth.consumer_id", key.consumerId())
				.addKeyValue("keyauth.route", RouteKeyAuthPolicies.routeId(exchange))
				.log("API key authenticated");
		}
		Instant expiresAt = key.expiresAt();
		if (expiresAt != null && this.options.expiryWarningHeader() != null
				&& expiresAt.isBefore(this.options.clock().instant().plus(this.options.expiryWarning()))) {
			// Set at commit time so a downstream header of the same name cannot replace it.
			forwarded.getResponse().beforeCommit(() -> {
				forwarded.getResponse().getHeaders().set(this.options.expiryWarningHeader(), expiresAt.toString());
				return Mono.empty();
			});
		}
		return forwarded;
	}

	@Override
	public int getOrder() {
		return KEY_AUTH_FILTER_ORDER;
	}

	/**
	 * Gateway-wide settings of the filter.
	 *
	 * @param expiryWarning how far ahead of its expiry a key's responses carry the warning header
	 * @param expiryWarningHeader the response header that carries the key's expiry, or {@code null}
	 * for none
	 * @param clock the time source
	 * @param keyPrefix the prefix of this gateway's keys, by which a key sent to a route without
	 * key auth is recognised and removed
	 */
	public record Options(Duration expiryWarning, String expiryWarningHeader, Clock clock, String keyPrefix) {

		public static final Options DEFAULTS = new Options(Duration.ofDays(7), "X-Api-Key-Expires",
				Clock.systemUTC());

		/** Options for keys with the default prefix. */
		public Options(Duration expiryWarning, String expiryWarningHeader, Clock clock) {
			this(expiryWarning, expiryWarningHeader, clock, ApiKeyFormat.DEFAULT_PREFIX);
		}

	}

}
