package dev.keyauth.autoconfigure;

import java.time.Clock;
import java.time.Duration;

import dev.keyauth.authentication.ApiKeyAuthenticator;
import dev.keyauth.authentication.LookupApiKeyAuthenticator;
import dev.keyauth.filter.AmbiguousPathFilter;
import dev.keyauth.filter.ApiKeyAuthenticationFilter;
import dev.keyauth.filter.ApiKeyCredentialConverter;
import dev.keyauth.filter.HeaderApiKeyCredentialConverter;
import dev.keyauth.filter.IdentityHeaders;
import dev.keyauth.filter.JsonKeyAuthFailureHandler;
import dev.keyauth.filter.KeyAuthFailureHandler;
import dev.keyauth.filter.RouteKeyAuthPolicies;
import dev.keyauth.filter.RoutePolicyCheck;
import dev.keyauth.ratelimit.ApiKeyResolver;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.usage.BatchingKeyUsageRecorder;
import dev.keyauth.usage.KeyUsageRecorder;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.cache.RedisInvalidationBus;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.metrics.MicrometerKeyAuthMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import dev.keyauth.store.ApiKeyLookup;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcConnectionDetails;
import org.springframework.cloud.gateway.config.GatewayAutoConfiguration;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.util.StringUtils;

/**
 * Auto-configuration of API-key authentication for a Spring Cloud Gateway (WebFlux) application:
 * the key format, the PostgreSQL store (migrated by Flyway at start-up), the cache tiers in front
 * of it (in-process and, when the application has Redis, shared), the authenticator and the
 * global filter. Every bean backs off when the application defines its own.
 */
@AutoConfiguration(after = { R2dbcAutoConfiguration.class, JacksonAutoConfiguration.class,
		DataRedisAutoConfiguration.class, DataRedisReactiveAutoConfiguration.class },
		afterName = "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
		before = GatewayAutoConfiguration.class)
@ConditionalOnClass({ GlobalFilter.class, DatabaseClient.class })
@ConditionalOnWebApplication(type = Type.REACTIVE)
@ConditionalOnProperty(prefix = "keyauth", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(KeyAuthProperties.class)
@Import({ KeyAuthStoreConfiguration.class, KeyAuthCacheConfiguration.class })
public final class KeyAuthAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	ApiKeyFormat apiKeyFormat(KeyAuthProperties properties) {
		return new ApiKeyFormat(properties.getKey().getPrefix());
	}

	@Bean
	@ConditionalOnMissingBean
	ApiKeyGenerator apiKeyGenerator(ApiKeyFormat format) {
		return new ApiKeyGenerator(format);
	}

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(ApiKeyLookup.class)
	ApiKeyAuthenticator apiKeyAuthenticator(ApiKeyFormat format, ApiKeyLookup lookup, ObjectProvider<Clock> clock,
			KeyAuthProperties properties) {
		// The lookup bounds each tier itself; this outer bound only guarantees that no request
		// ever waits longer than the store timeout plus the Redis timeout plus a margin.
		Duration guard = properties.getStore()
			.getTimeout()
			.plus(properties.getCache().getRedis().getTimeout())
			.plusMillis(500);
		return new LookupApiKeyAuthenticator(format, lookup, clock.getIfAvailable(Clock::systemUTC), guard);
	}

	@Bean
	@ConditionalOnMissingBean
	ApiKeyCredentialConverter apiKeyCredentialConverter(KeyAuthProperties properties, ApiKeyFormat format) {
		// The properties validated themselves as they were bound (KeyAuthProperties#validate).
		KeyAuthProperties.Credentials credentials = properties.getCredentials();
		return new HeaderApiKeyCredentialConverter(credentials.getBearerHeader(), credentials.getApiKeyHeader(),
				credentials.getQueryParam(), format.prefix());
	}

	@Bean
	@ConditionalOnMissingBean
	KeyAuthFailureHandler keyAuthFailureHandler(KeyAuthProperties properties, ObjectProvider<JsonMapper> jsonMapper) {
		return new JsonKeyAuthFailureHandler(properties.getRealm(), credentialHint(properties.getCredentials()),
				properties.getStore().getRetryAfter(), jsonMapper.getIfAvailable(JsonMapper::new));
	}

	private static String credentialHint(KeyAuthProperties.Credentials credentials) {
		boolean bearer = StringUtils.hasText(credentials.getBearerHeader());
		boolean header = StringUtils.hasText(credentials.getApiKeyHeader());
		String bearerHint = "the " + credentials.getBearerHeader() + " header as 'Bearer <key>'";
		String headerHint = "the " + credentials.getApiKeyHeader() + " header";
		if (bearer && header) {
			return "Send it in " + bearerHint + " or in " + headerHint + ".";
		}
		return "Send it in " + (bearer ? bearerHint : headerHint) + ".";
	}

	@Bean
	@ConditionalOnMissingBean
	IdentityHeaders keyAuthIdentityHeaders(KeyAuthProperties properties) {
		KeyAuthProperties.Headers headers = properties.getHeaders();
		return new IdentityHeaders(headers.getConsumerId(), headers.getKeyId(), headers.getScopes(),
				properties.getCredentials().isHide());
	}

	@Bean
	@ConditionalOnBean(ApiKeyStore.class)
	KeyAuthStartupReport keyAuthStartupReport(ObjectProvider<R2dbcConnectionDetails> connectionDetails,
			ApiKeyStore store, ObjectProvider<RedisInvalidationBus> bus) {
		R2dbcConnectionDetails details = connectionDetails.getIfAvailable();
		return new KeyAuthStartupReport((details != null) ? details.getConnectionFactoryOptions() : null,
				store.getClass().getName(), bus.getIfAvailable() != null);
	}

	@Bean
	@ConditionalOnMissingBean
	KeyAuthMetrics keyAuthMetrics(ObjectProvider<MeterRegistry> registry) {
		MeterRegistry meters = registry.getIfAvailable();
		return (meters != null) ? new MicrometerKeyAuthMetrics(meters) : KeyAuthMetrics.NONE;
	}

	@Bean
	@ConditionalOnMissingBean
	RouteKeyAuthPolicies routeKeyAuthPolicies() {
		return new RouteKeyAuthPolicies();
	}

	/**
	 * Keeps the probe paths the plugin adds to the proxy port ({@link KeyAuthPropertyDefaults})
	 * from costing every other request a match; see {@link ProbePathsHandlerMapping}.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.boot.webflux.actuate.endpoint.web."
			+ "AdditionalHealthEndpointPathsWebFluxHandlerMapping")
	static class ProbePathsConfiguration {

		// Static: a post-processor must not make its configuration class initialise early.
		@Bean
		@ConditionalOnMissingBean(name = "keyAuthProbePathsHandlerMapping")
		static BeanPostProcessor keyAuthProbePathsHandlerMapping() {
			return ProbePathsHandlerMapping.wrapping();
		}

	}

	@Bean
	@ConditionalOnMissingBean
	RoutePolicyCheck keyAuthRoutePolicyCheck(RouteKeyAuthPolicies policies) {
		return new RoutePolicyCheck(policies);
	}

	/**
	 * The gateway's default key resolver, so its own RequestRateLimiter counts per API key with
	 * no key-resolver argument; registered before the gateway's auto-configuration, whose
	 * principal-name resolver (empty for key-authenticated requests, so every one refused) then
	 * backs off. An application's own KeyResolver wins.
	 */
	@Bean(ApiKeyResolver.BEAN_NAME)
	@ConditionalOnMissingBean(KeyResolver.class)
	ApiKeyResolver apiKeyResolver() {
		return new ApiKeyResolver();
	}

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(ApiKeyStore.class)
	@ConditionalOnProperty(prefix = "keyauth.usage", name = "enabled", matchIfMissing = true)
	BatchingKeyUsageRecorder keyUsageRecorder(ApiKeyStore store, KeyAuthProperties properties,
			ObjectProvider<Clock> clock) {
		return new BatchingKeyUsageRecorder(store, properties.getUsage().getFlushInterval(),
				properties.getStore().getTimeout(), clock.getIfAvailable(Clock::systemUTC));
	}

	/**
	 * On every route, since the flaw it closes goes through the routes without key auth; see
	 * {@link AmbiguousPathFilter}.
	 */
	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnProperty(prefix = "keyauth.paths", name = "reject-ambiguous", matchIfMissing = true)
	AmbiguousPathFilter ambiguousPathFilter(KeyAuthProperties properties) {
		return new AmbiguousPathFilter(properties.getPaths().isAllowEncodedSeparators());
	}

	@Bean
	@ConditionalOnMissingBean
	ApiKeyAuthenticationFilter apiKeyAuthenticationFilter(RouteKeyAuthPolicies policies,
			ApiKeyCredentialConverter credentialConverter, ObjectProvider<ApiKeyAuthenticator> authenticator,
			KeyAuthFailureHandler failureHandler, IdentityHeaders identityHeaders, KeyAuthProperties properties,
			ObjectProvider<KeyUsageRecorder> usage, ObjectProvider<Clock> clock, KeyAuthMetrics metrics,
			ApiKeyFormat format) {
		// Fail closed: a gateway that has the plugin but nothing to check keys against must not
		// start and quietly forward every request unauthenticated.
		ApiKeyAuthenticator available = authenticator.getIfAvailable(() -> {
			throw new IllegalStateException("API-key authentication is enabled but there is no key store: set "
					+ "spring.r2dbc.url, define an ApiKeyStore or ApiKeyAuthenticator bean, or set "
					+ "keyauth.enabled=false");
		});
		String expiryHeader = properties.getExpiryWarning().getHeader();
		ApiKeyAuthenticationFilter.Options options = new ApiKeyAuthenticationFilter.Options(
				properties.getExpiryWarning().getWindow(),
				StringUtils.hasText(expiryHeader) ? expiryHeader : null, clock.getIfAvailable(Clock::systemUTC),
				format.prefix());
		return new ApiKeyAuthenticationFilter(policies, credentialConverter, available, failureHandler, identityHeaders,
				options, usage.getIfAvailable(() -> KeyUsageRecorder.NONE), metrics);
	}

}
