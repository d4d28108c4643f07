package dev.keyauth.cache;

import java.time.Clock;
import java.time.Duration;
import java.util.UUID;

import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.ReactiveSubscription;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.ReactiveRedisMessageListenerContainer;

/**
 * Invalidations over Redis pub/sub, with a heartbeat that proves the subscription works.
 * <p>
 * Redis pub/sub delivers at most once: a message published while a subscriber is disconnected is
 * lost, and a reconnecting client does not learn what it missed. So this instance publishes a
 * heartbeat, carrying its send time, to a channel only it listens to, on the same connection as
 * the invalidations. Redis delivers messages in publish order, so a heartbeat sent at {@code t}
 * that arrives proves that every invalidation published before {@code t} has arrived too:
 * {@link #confirmedThrough()} is the send time of the last heartbeat received. The local cache
 * trusts its entries only a short, configured time beyond that.
 * <p>
 * Failure mode: while Redis is down, heartbeats stop, {@code confirmedThrough} stops moving, and
 * after that bound the local cache re-checks every key against Redis (skipped by its breaker)
 * and PostgreSQL. When heartbeats resume after a gap, invalidations may have been lost in it, so
 * every local entry is read again before its next use (kept only as a stale fallback in case
 * PostgreSQL is down too); the subscription is re-established with backoff, forever.
 */
public class RedisInvalidationBus implements InvalidationBus, SmartLifecycle {

	private static final Log logger = LogFactory.getLog(RedisInvalidationBus.class);

	private final ReactiveRedisConnectionFactory connectionFactory;

	private final ReactiveStringRedisTemplate redis;

	private final String channel;

	private final String heartbeatChannel;

	private final Duration heartbeatInterval;

	private final Duration timeout;

	private final Clock clock;

	private final LocalCacheEvictions evictions;

	private final Disposable.Composite running = Disposables.composite();

	private volatile long confirmedThrough;

	private volatile boolean started;

	private volatile boolean subscriptionHealthy = true;

	private volatile KeyAuthMetrics metrics = KeyAuthMetrics.NONE;

	public void setMetrics(KeyAuthMetrics metrics) {
		this.metrics = metrics;
	}

	/** Whether the last heartbeat arrived recently: the subscription delivers. */
	public boolean isConfirmed(long nowMillis) {
		return nowMillis - this.confirmedThrough <= 3 * this.heartbeatInterval.toMillis() + 500;
	}

	/**
	 * @param channel the channel every instance publishes invalidations to
	 * @param heartbeatInterval how often this instance proves its subscription
	 * @param timeout bound on each publish
	 */
	public RedisInvalidationBus(ReactiveRedisConnectionFactory connectionFactory, ReactiveStringRedisTemplate redis,
			String channel, Duration heartbeatInterval, Duration timeout, Clock clock, LocalCacheEvictions evictions) {
		this.connectionFactory = connectionFactory;
		this.redis = redis;
		this.channel = channel;
		this.heartbeatChannel = channel + ":heartbeat:" + UUID.randomUUID();
		this.heartbeatInterval = heartbeatInterval;
		this.timeout = timeout;
		this.clock = clock;
		this.evictions = evictions;
	}

	@Override
	public Mono<Void> publish(KeyHash hash) {
		return this.redis.convertAndSend(this.channel, hash.toHex()).timeout(this.timeout).then();
	}

	@Override
	public long confirmedThrough() {
		return this.confirmedThrough;
	}

	@Override
	public void start() {
		this.started = true;
		this.running.add(subscription().subscribe());
		this.running.add(Flux.interval(this.heartbeatInterval, this.heartbeatInterval)
			.onBackpressureDrop()
			.concatMap((tick) -> this.redis
				.convertAndSend(this.heartbeatChannel, Long.toString(this.clock.millis()))
				.timeout(this.timeout)
				.onErrorResume((ex) -> Mono.empty()))
			.subscribe());
	}

	private Flux<?> subscription() {
		// A fresh container per attempt: if the subscription dies, everything about it is rebuilt.
		return Flux.usingWhen(Mono.fromCallable(() -> new ReactiveRedisMessageListenerContainer(this.connectionFactory))
			.subscribeOn(Schedulers.boundedElastic()),
				(container) -> container.receive(ChannelTopic.of(this.channel), ChannelTopic.of(this.heartbeatChannel)),
				ReactiveRedisMessageListenerContainer::destroyLater)
			.doOnNext(this::onMessage)
			.doOnError(this::onSubscriptionError)
			.retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(2)))
			.repeat(() -> this.started);
	}

	// One warning per outage, not one per reconnection attempt.
	private void onSubscriptionError(Throwable ex) {
		if (this.subscriptionHealthy) {
			this.subscriptionHealthy = false;
			logger.warn("Key invalidation subscription lost; resubscribing with backoff, and meanwhile trusting "
					+ "cached keys only briefly: " + ex);
		}
		else {
			logger.debug("Key invalidation subscription still failing", ex);
		}
	}

	private void onMessage(ReactiveSubscription.Message<String, String> message) {
		this.subscriptionHealthy = true;
		if (this.heartbeatChannel.equals(message.getChannel())) {
			onHeartbeat(message.getMessage());
			return;
		}
		try {
			this.evictions.evict(KeyHash.fromHex(message.getMessage()));
			this.metrics.invalidationReceived();
		}
		catch (IllegalArgumentException ex) {
			logger.debug("Ignoring a malformed invalidation message on " + this.channel);
		}
	}

	private void onHeartbeat(String payload) {
		long sentAt;
		try {
			sentAt = Long.parseLong(payload);
		}
		catch (NumberFormatException ex) {
			return;
		}
		long previous = this.confirmedThrough;
		if (sentAt <= previous) {
			return;
		}
		// More than two intervals between consecutive heartbeats: some were lost, and any
		// invalidation published in between may have been lost with them.
		if (previous == 0 || sentAt - previous > 2 * this.heartbeatInterval.toMillis() + 250) {
			if (previous != 0) {
				logger.warn("Key invalidation subscription was interrupted for " + (sentAt - previous)
						+ " ms; re-reading every key in the in-process cache before its next use");
			}
			this.evictions.evictAll();
		}
		this.confirmedThrough = sentAt;
	}

	@Override
	public void stop() {
		this.started = false;
		this.running.dispose();
	}

	@Override
	public boolean isRunning() {
		return this.started;
	}

}
