package dev.keyauth.autoconfigure;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;

import dev.keyauth.cache.CacheInvalidator;
import dev.keyauth.cache.CachePolicy;
import dev.keyauth.cache.EarlierChangesReader;
import dev.keyauth.cache.HeartbeatObservationPredicate;
import dev.keyauth.cache.InvalidationBus;
import dev.keyauth.cache.IoEventLoopGroupProvider;
import dev.keyauth.cache.LocalCacheEvictions;
import dev.keyauth.cache.RedisInvalidationBus;
import dev.keyauth.cache.RedisKeyCache;
import dev.keyauth.cache.TieredApiKeyLookup;
import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.store.ApiKeyChangeListener;
import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.support.CircuitBreakers;
import dev.keyauth.support.MonotonicClock;
import dev.keyauth.support.RedisConnectionOpener;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.tracing.LettuceObservationContext;
import io.micrometer.observation.ObservationPredicate;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/**
 * The lookup path in front of the store: in-process cache, Redis, PostgreSQL, and the
 * invalidations that keep them honest.
 */
@Configuration(proxyBeanMethods = false)
class KeyAuthCacheConfiguration {

	private static final SecureRandom SECURE_RANDOM = new SecureRandom();

	@Bean
	@ConditionalOnMissingBean(ApiKeyLookup.class)
	@ConditionalOnBean(ApiKeyStore.class)
	TieredApiKeyLookup apiKeyLookup(ApiKeyStore store, ObjectProvider<RedisKeyCache> redis, KeyAuthProperties properties,
			ObjectProvider<Clock> clock, KeyAuthMetrics metrics) {
		KeyAuthProperties.Cache cache = properties.getCache();
		CachePolicy policy = new CachePolicy(cache.getLocal().getTtl(), cache.getNegativeTtl(),
				cache.getRedis().getTtl(), cache.getInvalidation().getUnconfirmedTrust(), cache.getStaleIfError(),
				Duration.ofSeconds(1), cache.getLocal().getRefreshAhead());
		Duration storeTimeout = properties.getStore().getTimeout();
		RedisKeyCache redisTier = redis.getIfAvailable();
		Clock wallClock = clock.getIfAvailable(Clock::systemUTC);
		TieredApiKeyLookup lookup = new TieredApiKeyLookup(store::findByHash,
				cache.getLocal().isEnabled() ? cache.getLocal().getMaxSize() : 0, redisTier, policy, wallClock,
				MonotonicClock.SYSTEM, storeTimeout, CircuitBreakers.forCallsWithin("keyauth-store", storeTimeout));
		lookup.setMetrics(metrics);
		return lookup;
	}

	/**
	 * What a starting instance learns of the keys changed before it started, so that it passes
	 * over Redis entries read before those changes as the instances that heard of them do.
	 * Read here, on the start-up thread, before the server takes requests.
	 */
	@Bean
	@ConditionalOnBean({ TieredApiKeyLookup.class, RedisKeyCache.class })
	@ConditionalOnMissingBean
	EarlierChangesReader earlierChangesReader(ApiKeyStore store, TieredApiKeyLookup lookup,
			KeyAuthProperties properties, ObjectProvider<Clock> clock) {
		EarlierChangesReader reader = new EarlierChangesReader(store, lookup, clock.getIfAvailable(Clock::systemUTC),
				properties.getStore().getTimeout());
		reader.read();
		return reader;
	}

	@Bean
	@ConditionalOnMissingBean
	ApiKeyChangeListener apiKeyChangeListener(ObjectProvider<LocalCacheEvictions> local,
			ObjectProvider<RedisKeyCache> redis, ObjectProvider<InvalidationBus> bus, KeyAuthProperties properties,
			KeyAuthMetrics metrics) {
		return new CacheInvalidator(local.getIfAvailable(() -> NO_LOCAL_CACHE), redis.getIfAvailable(),
				bus.getIfAvailable(() -> InvalidationBus.LOCAL), properties.getCache().getInvalidation().getRepeatAfter(),
				metrics);
	}

	private static final LocalCacheEvictions NO_LOCAL_CACHE = new LocalCacheEvictions() {

		@Override
		public void evict(KeyHash hash) {
		}

		@Override
		public void evictAll() {
		}

	};

	/**
	 * The Redis connections the plugin's calls share (the Redis tier's, the invalidations' and
	 * the rate limits'), opened at start-up on the main thread rather than by the first call, on
	 * an event loop ({@link RedisConnectionOpener}).
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(ReactiveStringRedisTemplate.class)
	@ConditionalOnBean(ReactiveRedisConnectionFactory.class)
	static class RedisConnectionConfiguration {

		@Bean
		@ConditionalOnMissingBean
		RedisConnectionOpener keyAuthRedisConnectionOpener(ReactiveRedisConnectionFactory connectionFactory) {
			return new RedisConnectionOpener(connectionFactory, Duration.ofSeconds(1));
		}

		/**
		 * Opens the connections once every bean is ready. If Redis is down at start-up the
		 * gateway starts anyway (degraded), says so, and connects in the background.
		 */
		@Bean
		SmartInitializingSingleton keyAuthRedisConnectionWarmUp(RedisConnectionOpener opener) {
			return () -> {
				try {
					opener.open();
				}
				catch (RuntimeException ex) {
					LogFactory.getLog(KeyAuthCacheConfiguration.class)
						.warn("Redis is not reachable at start-up (" + ex + "); connecting every second in the "
								+ "background. Until then, API keys are checked against PostgreSQL and each cached "
								+ "answer is trusted only for keyauth.cache.invalidation.unconfirmed-trust, and rate "
								+ "limits fail open or closed as keyauth.rate-limit.fail-open says. A single gateway "
								+ "meant to run without Redis excludes Spring Boot's Redis auto-configuration "
								+ "(DataRedisAutoConfiguration, DataRedisReactiveAutoConfiguration), or sets "
								+ "keyauth.cache.redis.enabled=false if the application uses Redis for itself");
				}
			};
		}

	}

	/**
	 * Redis as the shared tier and the invalidation bus, when the application has Redis
	 * (spring.data.redis.*) and keyauth.cache.redis.enabled is not false.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(ReactiveStringRedisTemplate.class)
	@ConditionalOnBean(ReactiveRedisConnectionFactory.class)
	@ConditionalOnProperty(prefix = "keyauth.cache.redis", name = "enabled", matchIfMissing = true)
	static class RedisTierConfiguration {

		@Bean
		@ConditionalOnMissingBean
		RedisKeyCache keyAuthRedisKeyCache(RedisConnectionOpener connection, ObjectProvider<JsonMapper> jsonMapper,
				ObjectProvider<ApiKeyStore> store, KeyAuthProperties properties, KeyAuthMetrics metrics) {
			KeyAuthProperties.Cache.Redis redis = properties.getCache().getRedis();
			RedisKeyCache cache = new RedisKeyCache(new ReactiveStringRedisTemplate(connection.connectionFactory()),
					jsonMapper.getIfAvailable(JsonMapper::new), redis.getKeyPrefix(), redis.getTimeout(),
					CircuitBreakers.forCallsWithin("keyauth-redis", redis.getTimeout()),
					signingSecret(store.getIfAvailable(), properties.getStore().getTimeout()));
			cache.setMetrics(metrics);
			return cache;
		}

		/**
		 * The secret Redis entries are signed with: the one every instance finds in the store
		 * (the first to start stores it). Read once, at start-up, where waiting is allowed (with
		 * migrations on, the store has just been reached, or start-up has failed already). A
		 * store that keeps none, or cannot be read, leaves each instance a secret of its own: it
		 * then trusts only its own entries, which is safe, but the instances no longer share the
		 * tier.
		 */
		private static byte[] signingSecret(@Nullable ApiKeyStore store, Duration timeout) {
			byte[] candidate = new byte[32];
			SECURE_RANDOM.nextBytes(candidate);
			String candidateHex = HexFormat.of().formatHex(candidate);
			String shared = null;
			Throwable failure = null;
			if (store != null) {
				try {
					shared = store.sharedSecret(candidateHex).block(timeout.plusSeconds(5));
				}
				catch (RuntimeException ex) {
					failure = ex;
				}
			}
			if (shared != null) {
				try {
					return HexFormat.of().parseHex(shared);
				}
				catch (IllegalArgumentException ex) {
					throw new IllegalStateException("The key store's shared secret is not hexadecimal", ex);
				}
			}
			LogFactory.getLog(KeyAuthCacheConfiguration.class)
				.warn("The key store keeps no secret shared by the gateway instances"
						+ ((failure != null) ? " (" + failure + ")" : "") + "; this instance signs its Redis "
						+ "cache entries with a secret of its own and ignores those of other instances");
			return candidate;
		}

		@Bean
		@ConditionalOnMissingBean(InvalidationBus.class)
		RedisInvalidationBus keyAuthInvalidationBus(ReactiveRedisConnectionFactory connectionFactory,
				RedisConnectionOpener connection, ObjectProvider<RedisConnectionFactory> imperativeConnectionFactory,
				ObjectProvider<TieredApiKeyLookup> lookup, KeyAuthProperties properties, KeyAuthMetrics metrics) {
			KeyAuthProperties.Cache cache = properties.getCache();
			TieredApiKeyLookup tiered = lookup.getIfAvailable();
			// Lettuce's connection factory (Spring Boot's) is both; the heartbeats use the
			// imperative side, on a thread of their own.
			RedisConnectionFactory imperative = (connectionFactory instanceof RedisConnectionFactory both) ? both
					: imperativeConnectionFactory.getIfAvailable();
			if (imperative == null) {
				throw new IllegalStateException("The API key invalidation bus needs a RedisConnectionFactory beside the "
						+ "ReactiveRedisConnectionFactory; define one, or set keyauth.cache.redis.enabled=false");
			}
			RedisInvalidationBus bus = new RedisInvalidationBus(imperative,
					new ReactiveStringRedisTemplate(connection.connectionFactory()),
					invalidationChannel(properties), cache.getInvalidation().getHeartbeatInterval(),
					Duration.ofSeconds(1), MonotonicClock.SYSTEM,
					(tiered != null) ? tiered : NO_LOCAL_CACHE);
			if (tiered != null) {
				tiered.setInvalidationBus(bus);
			}
			bus.setMetrics(metrics);
			return bus;
		}

		private static String invalidationChannel(KeyAuthProperties properties) {
			return properties.getCache().getRedis().getKeyPrefix() + "invalidations";
		}

		/**
		 * Leaves the invalidation bus's heartbeats out of Spring Boot's observation of Lettuce's
		 * commands (metrics, and spans where there is a tracer); every other command is observed
		 * as before. Without an {@code ObservationRegistry} the predicate is simply never asked.
		 */
		@Configuration(proxyBeanMethods = false)
		@ConditionalOnClass({ ObservationPredicate.class, LettuceObservationContext.class })
		static class HeartbeatObservationConfiguration {

			@Bean
			@ConditionalOnMissingBean
			HeartbeatObservationPredicate keyAuthHeartbeatObservationPredicate(KeyAuthProperties properties) {
				return new HeartbeatObservationPredicate(invalidationChannel(properties));
			}

		}

		/**
		 * Lettuce's event loops of the same classes as the gateway's, so that Redis traffic does
		 * not widen the JIT's type profiles of the Netty code every request runs through (see
		 * {@link IoEventLoopGroupProvider}). Only where Spring Boot builds Lettuce's
		 * {@link ClientResources}; an application's own customizer that sets a provider runs
		 * after this one and wins.
		 */
		@Bean
		@ConditionalOnMissingBean
		IoEventLoopGroupProvider keyAuthLettuceEventLoops() {
			return new IoEventLoopGroupProvider(DefaultClientResources.DEFAULT_IO_THREADS);
		}

		@Bean
		// First, so that an application's own customizer that sets a provider replaces this one.
		@Order(Ordered.HIGHEST_PRECEDENCE)
		ClientResourcesBuilderCustomizer keyAuthLettuceEventLoopsCustomizer(IoEventLoopGroupProvider provider) {
			return (builder) -> builder.eventLoopGroupProvider(provider);
		}

		@Bean
		@ConditionalOnProperty(prefix = "keyauth.cache.redis", name = "fail-fast", matchIfMissing = true)
		LettuceClientOptionsBuilderCustomizer keyAuthLettuceFailFast() {
			// Queued commands would make every request wait for a reconnect that may never come.
			return (options) -> options.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
		}

		/**
		 * Lettuce reconnects only a connection it sees closed. One that stops answering without
		 * being closed (a failover or partition that left no reset behind, a middlebox that
		 * dropped it) would otherwise be kept for as long as the kernel retries (about a quarter
		 * of an hour), and meanwhile the Redis tier, the rate limits and the heartbeats on it all
		 * fail. So the kernel is told to close a connection whose sent data has gone
		 * unacknowledged for 10 s ({@code TCP_USER_TIMEOUT}), and idle connections send TCP
		 * keepalives (after 15 s idle, every 5 s, 3 unanswered close it), which also keep a
		 * middlebox from dropping them as idle; Lettuce then reconnects as after any outage.
		 * Both need native transport (epoll or io_uring, that is Linux); elsewhere Lettuce
		 * ignores them. Boot's connect timeout is kept; an application's own customizer runs
		 * later and wins.
		 */
		@Bean
		@Order(Ordered.HIGHEST_PRECEDENCE)
		LettuceClientOptionsBuilderCustomizer keyAuthLettuceDeadConnectionDetection() {
			return (options) -> options.socketOptions(options.build()
				.getSocketOptions()
				.mutate()
				.keepAlive(SocketOptions.KeepAliveOptions.builder()
					.enable()
					.idle(Duration.ofSeconds(15))
					.interval(Duration.ofSeconds(5))
					.count(3)
					.build())
				.tcpUserTimeout(SocketOptions.TcpUserTimeoutOptions.builder()
					.enable()
					.tcpUserTimeout(Duration.ofSeconds(10))
					.build())
				.build());
		}

	}

}
