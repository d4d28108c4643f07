package dev.keyauth.cache;

import java.time.Duration;

import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.store.ApiKeyChangeListener;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Makes a committed change to a key visible everywhere: evicts it here, deletes it from Redis,
 * then publishes the invalidation to every instance (in that order, so an instance that reloads
 * on the message cannot find the old answer in Redis).
 * <p>
 * A load that read PostgreSQL just before the change could still write the old answer to Redis
 * just after the delete; so the delete and the publish are repeated once, shortly after.
 * <p>
 * Failure mode: if Redis cannot be reached, the change is still committed and evicted here; the
 * delete and publish are retried in the background with backoff for several minutes. Meanwhile
 * the other instances, whose subscription is interrupted by the same outage, stop trusting their
 * local entries after the unconfirmed-trust bound and re-read PostgreSQL.
 */
public class CacheInvalidator implements ApiKeyChangeListener {

	private static final Log logger = LogFactory.getLog(CacheInvalidator.class);

	private final LocalCacheEvictions local;

	private final @Nullable RedisKeyCache redis;

	private final InvalidationBus bus;

	private final Duration repeatAfter;

	private final KeyAuthMetrics metrics;

	public CacheInvalidator(LocalCacheEvictions local, @Nullable RedisKeyCache redis, InvalidationBus bus,
			Duration repeatAfter, KeyAuthMetrics metrics) {
		this.local = local;
		this.redis = redis;
		this.bus = bus;
		this.repeatAfter = repeatAfter;
		this.metrics = metrics;
	}

	@Override
	public Mono<Void> keyChanged(KeyHash hash) {
		return Mono.defer(() -> {
			this.local.evict(hash);
			return shared(hash).doOnSuccess((done) -> repeatLater(hash)).onErrorResume((ex) -> {
				logger.warn("Could not publish a key invalidation to Redis (" + ex
						+ "); retrying in the background");
				retryInBackground(hash);
				return Mono.empty();
			});
		});
	}

	private Mono<Void> shared(KeyHash hash) {
		Mono<Void> delete = (this.redis != null) ? this.redis.delete(hash) : Mono.empty();
		return delete.then(Mono.defer(() -> this.bus.publish(hash)))
			.doOnSuccess((done) -> this.metrics.invalidationSent());
	}

	private void repeatLater(KeyHash hash) {
		if (this.redis == null || this.repeatAfter.isZero()) {
			return;
		}
		Mono.delay(this.repeatAfter).then(shared(hash)).retryWhen(backoff()).onErrorResume((ex) -> Mono.empty()).subscribe();
	}

	private void retryInBackground(KeyHash hash) {
		shared(hash).retryWhen(backoff())
			.doOnSuccess((done) -> repeatLater(hash))
			.onErrorResume((ex) -> {
				logger.error("Gave up publishing a key invalidation to Redis; other instances keep their cached "
						+ "copy until it expires: " + ex);
				return Mono.empty();
			})
			.subscribe();
	}

	private static Retry backoff() {
		// About six minutes in all.
		return Retry.backoff(40, Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(10));
	}

}
