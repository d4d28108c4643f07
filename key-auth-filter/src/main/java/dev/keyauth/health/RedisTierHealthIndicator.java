package dev.keyauth.health;

import dev.keyauth.cache.RedisInvalidationBus;
import dev.keyauth.cache.RedisKeyCache;
import reactor.core.publisher.Mono;

import org.springframework.boot.health.contributor.AbstractReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The shared tier. Always UP: with Redis down, authentication goes on from the in-process cache
 * and PostgreSQL, so the gateway is degraded, not down. The details say which:
 * {@code degraded: true} when invalidations are unconfirmed or the Redis breaker is open.
 */
public class RedisTierHealthIndicator extends AbstractReactiveHealthIndicator {

	private final RedisKeyCache cache;

	private final RedisInvalidationBus bus;

	public RedisTierHealthIndicator(RedisKeyCache cache, RedisInvalidationBus bus) {
		this.cache = cache;
		this.bus = bus;
	}

	@Override
	protected Mono<Health> doHealthCheck(Health.Builder builder) {
		boolean confirmed = this.bus.isConfirmed();
		String breaker = this.cache.breaker().getState().name().toLowerCase(java.util.Locale.ROOT);
		return Mono.just(builder.up()
			.withDetail("invalidations", confirmed ? "confirmed" : "unconfirmed")
			.withDetail("redisCircuitBreaker", breaker)
			.withDetail("degraded", !confirmed || !"closed".equals(breaker))
			.build());
	}

}
