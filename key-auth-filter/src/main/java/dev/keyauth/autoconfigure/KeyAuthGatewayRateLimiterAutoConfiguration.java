package dev.keyauth.autoconfigure;

import java.util.List;

import dev.keyauth.ratelimit.BoundedScriptRedisTemplate;
import dev.keyauth.support.RedisConnectionOpener;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.core.ReactiveRedisTemplate;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Spring Cloud Gateway's own {@link RedisRateLimiter} (what its {@code RequestRateLimiter} route
 * filter uses by default), made as the gateway makes it, except that its Redis calls wait for
 * the plugin's {@link RedisConnectionOpener}.
 * <p>
 * The gateway's bean calls Redis through Spring Boot's {@code ReactiveStringRedisTemplate}, and
 * so opens Spring Data Redis's shared connection on its first call, with a blocking connect on
 * that call's thread (an event loop) under a lock every Redis call takes. The plugin's default
 * {@code KeyResolver} makes that filter count per key with no further setup, so a gateway
 * started while Redis is unreachable would hold an event loop for a connect attempt on every
 * rate-limited request (up to Lettuce's ten-second connect timeout where a partition drops the
 * packets), and the other event loops would queue behind the lock. Through the opener those
 * calls fail at once until the connection is open, and the gateway's limiter does with them
 * what it does with any Redis failure: it lets the request through (its own choice, shown by
 * {@code X-RateLimit-Remaining: -1}). Its scripts also get {@code keyauth.rate-limit.timeout}
 * and a circuit breaker ({@link BoundedScriptRedisTemplate}), as the plugin's own limit checks
 * have: the gateway's limiter has no timeout of its own.
 * <p>
 * Registered ahead of the gateway's Redis auto-configuration, whose bean backs off for this one.
 * Backs off itself for an application's own {@code RedisRateLimiter}, when the gateway's Redis
 * support is switched off, and when the plugin opens no Redis connection. A
 * {@code ReactiveStringRedisTemplate} of the application's own on another connection factory
 * is used as it is, as the gateway would.
 */
@AutoConfiguration(after = KeyAuthAutoConfiguration.class,
		beforeName = "org.springframework.cloud.gateway.config.GatewayRedisAutoConfiguration")
@ConditionalOnClass(RedisRateLimiter.class)
@ConditionalOnProperty(name = "spring.cloud.gateway.server.webflux.redis.enabled", matchIfMissing = true)
@ConditionalOnBean({ RedisConnectionOpener.class, ReactiveRedisTemplate.class, ReactiveStringRedisTemplate.class })
public final class KeyAuthGatewayRateLimiterAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	RedisRateLimiter redisRateLimiter(RedisConnectionOpener connection, ReactiveStringRedisTemplate redisTemplate,
			@Qualifier(RedisRateLimiter.REDIS_SCRIPT_NAME) RedisScript<List<Long>> script,
			ConfigurationService configurationService, KeyAuthProperties properties) {
		// The script reads its Lua text from the class path on first use: here, not on an event loop.
		script.getSha1();
		ReactiveStringRedisTemplate template = connection.opens(redisTemplate.getConnectionFactory())
				? new BoundedScriptRedisTemplate(connection.connectionFactory(),
						properties.getRateLimit().getTimeout())
				: redisTemplate;
		return new RedisRateLimiter(template, script, configurationService);
	}

}
