package dev.keyauth.autoconfigure;

import java.util.List;

import dev.keyauth.filter.RouteKeyAuthPolicies;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.ratelimit.ApiKeyRateLimitFilter;
import dev.keyauth.ratelimit.ApiKeyRateLimiter;
import dev.keyauth.store.RateLimit;
import dev.keyauth.support.RedisConnectionOpener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Per-key rate limits on Spring Cloud Gateway's Redis token-bucket script, when the gateway has
 * Redis (and so the script) and key authentication is on.
 */
@AutoConfiguration(after = KeyAuthAutoConfiguration.class,
		afterName = "org.springframework.cloud.gateway.config.GatewayRedisAutoConfiguration")
@ConditionalOnBean(value = { RouteKeyAuthPolicies.class, KeyAuthMetrics.class, ReactiveRedisConnectionFactory.class },
		name = RedisRateLimiter.REDIS_SCRIPT_NAME)
public final class KeyAuthRateLimitAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	ApiKeyRateLimiter apiKeyRateLimiter(ReactiveRedisConnectionFactory connectionFactory,
			ObjectProvider<RedisConnectionOpener> connection,
			@Qualifier(RedisRateLimiter.REDIS_SCRIPT_NAME) RedisScript<List<Long>> script, KeyAuthProperties properties,
			ObjectProvider<MeterRegistry> meterRegistry) {
		KeyAuthProperties.RateLimiting rateLimit = properties.getRateLimit();
		// The gateway's script reads its Lua text from the class path on first use; read it here,
		// at start-up, so that the first call of a RedisRateLimiter of the application's own
		// (for which KeyAuthGatewayRateLimiterAutoConfiguration, which reads it too, backs off)
		// does not read a file on an event loop. This plugin's limiter keeps a copy of the text.
		script.getSha1();
		MeterRegistry registry = meterRegistry.getIfAvailable();
		Counter failures = (registry != null) ? Counter.builder("keyauth.ratelimit.redis.failures")
			.description("Rate-limit checks that could not reach Redis")
			.register(registry) : null;
		// Through the opener where there is one (there is with the plugin's own configuration),
		// so that a Redis down at start-up is not connected to from an event loop.
		RedisConnectionOpener opener = connection.getIfAvailable();
		return new ApiKeyRateLimiter(
				new ReactiveStringRedisTemplate((opener != null) ? opener.connectionFactory() : connectionFactory), script,
				properties.getCache().getRedis().getKeyPrefix() + "rl:", rateLimit.getTimeout(), rateLimit.isFailOpen(),
				(failures != null) ? failures::increment : () -> {
				}, rateLimit.getLocalShare());
	}

	@Bean
	@ConditionalOnMissingBean
	ApiKeyRateLimitFilter apiKeyRateLimitFilter(ApiKeyRateLimiter limiter, RouteKeyAuthPolicies policies,
			KeyAuthProperties properties, KeyAuthMetrics metrics) {
		KeyAuthProperties.RateLimiting rateLimit = properties.getRateLimit();
		RateLimit defaultLimit = (rateLimit.getDefaultRequestsPerSecond() > 0)
				? new RateLimit(rateLimit.getDefaultRequestsPerSecond(),
						Math.max(rateLimit.getDefaultBurst(), rateLimit.getDefaultRequestsPerSecond()))
				: null;
		return new ApiKeyRateLimitFilter(limiter, policies, defaultLimit, metrics, rateLimit.isIncludeHeaders());
	}

}
