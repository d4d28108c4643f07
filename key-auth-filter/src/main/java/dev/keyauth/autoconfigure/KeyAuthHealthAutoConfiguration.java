package dev.keyauth.autoconfigure;

import dev.keyauth.cache.RedisInvalidationBus;
import dev.keyauth.cache.RedisKeyCache;
import dev.keyauth.health.KeyStoreHealthIndicator;
import dev.keyauth.health.RedisTierHealthIndicator;
import dev.keyauth.store.ApiKeyStore;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Health of the key store ({@code keyStore}) and of the Redis tier ({@code keyauthRedis}).
 */
@AutoConfiguration(after = KeyAuthAutoConfiguration.class)
@ConditionalOnClass(ReactiveHealthIndicator.class)
@ConditionalOnEnabledHealthIndicator("keyauth")
public final class KeyAuthHealthAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(name = "keyStoreHealthIndicator")
	@ConditionalOnBean(ApiKeyStore.class)
	KeyStoreHealthIndicator keyStoreHealthIndicator(ApiKeyStore store, KeyAuthProperties properties,
			ObjectProvider<KeyAuthStartupReport> report) {
		KeyAuthStartupReport startup = report.getIfAvailable();
		return new KeyStoreHealthIndicator(store, (startup != null) ? startup.storeDescription() : store.getClass()
			.getSimpleName(), properties.getStore().getTimeout());
	}

	@Bean
	@ConditionalOnMissingBean(name = "keyauthRedisHealthIndicator")
	@ConditionalOnBean({ RedisKeyCache.class, RedisInvalidationBus.class })
	RedisTierHealthIndicator keyauthRedisHealthIndicator(RedisKeyCache cache, RedisInvalidationBus bus) {
		return new RedisTierHealthIndicator(cache, bus);
	}

}
