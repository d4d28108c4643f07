package dev.keyauth.filter;

import dev.keyauth.authentication.ApiKeyAuthenticator;
import dev.keyauth.authentication.KeyAuthenticationException;
import dev.keyauth.authentication.MissingApiKeyException;
import dev.keyauth.store.ApiKey;
import reactor.core.publisher.Mono;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.NettyWriteResponseFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;

/**
 * Authenticates every routed request by API key before it is forwarded.
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
	 * Absent on routes that do not require a key.
	 */
	public static final String AUTHENTICATED_API_KEY_ATTR = ApiKeyAuthenticationFilter.class.getName() + ".authenticatedApiKey";

	private static final Mono<ApiKeyCredential> MISSING = Mono.error(MissingApiKeyException.INSTANCE);

	private final ApiKeyCredentialConverter credentialConverter;

	private final ApiKeyAuthenticator authenticator;

	private final KeyAuthFailureHandler failureHandler;

	private final IdentityHeaders identityHeaders;

	public ApiKeyAuthenticationFilter(ApiKeyCredentialConverter credentialConverter, ApiKeyAuthenticator authenticator,
			KeyAuthFailureHandler failureHandler, IdentityHeaders identityHeaders) {
		this.credentialConverter = credentialConverter;
		this.authenticator = authenticator;
		this.failureHandler = failureHandler;
		this.identityHeaders = identityHeaders;
	}

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
		Route route = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
		if (!RouteKeyAuthPolicy.of(route).enabled()) {
			return chain.filter(this.identityHeaders.withoutSpoofedIdentity(exchange));
		}
		// Errors from the chain itself are not caught here: onErrorResume sits before flatMap.
		return this.credentialConverter.convert(exchange)
			.switchIfEmpty(MISSING)
			.flatMap((credential) -> this.authenticator.authenticate(credential.key())
				.map((key) -> authenticated(exchange, credential, key)))
			.onErrorResume(KeyAuthenticationException.class,
					(failure) -> this.failureHandler.onAuthenticationFailure(exchange, failure).then(Mono.empty()))
			.flatMap(chain::filter);
	}

	private ServerWebExchange authenticated(ServerWebExchange exchange, ApiKeyCredential credential, ApiKey key) {
		ServerWebExchange forwarded = this.identityHeaders.authenticated(exchange, credential, key);
		forwarded.getAttributes().put(AUTHENTICATED_API_KEY_ATTR, key);
		return forwarded;
	}

	@Override
	public int getOrder() {
		return KEY_AUTH_FILTER_ORDER;
	}

}
