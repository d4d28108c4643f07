package dev.keyauth.cache;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.keyauth.key.KeyHash;
import dev.keyauth.metrics.KeyAuthMetrics;
import dev.keyauth.support.MonotonicClock;
import dev.keyauth.support.Timeouts;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.connection.Message;
import org.springframework.data.redis.connection.MessageListener;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.SubscriptionListener;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.StringRedisTemplate;

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
 * PostgreSQL is down too). Lettuce re-establishes a subscription lost in an outage; one that
 * could not be made (Redis down at start-up) is retried every heartbeat interval, forever. Every
 * subscription Redis confirms, a restored one included, is treated the same way: a reconnect can
 * be over before any heartbeat goes missing, and what was published meanwhile is lost all the
 * same.
 * <p>
 * Lettuce reconnects only a connection it sees closed. A subscription whose connection stops
 * delivering without being closed (a failover or partition that left no reset behind, a
 * middlebox that dropped it) would stay in place for good: it only receives, so nothing on it
 * ever times out. When Redis accepts the heartbeats but delivers none for ten heartbeat intervals
 * (at least two seconds), the subscription is therefore made again on a new connection
 * ({@link DeliveryWatch}). (The connections that send, the
 * heartbeats' among them, are Lettuce's to replace: {@code KeyAuthCacheConfiguration} has the
 * kernel close them when Redis stops acknowledging what they send.)
 * <p>
 * The heartbeats and the subscription use Spring Data Redis's imperative API: a thread of this
 * bus's own subscribes and sends each heartbeat, waiting for Redis's reply, and messages are
 * handled on Lettuce's I/O thread as they arrive. Five heartbeats a second are most of what a
 * key-auth gateway does in the background, and through the reactive API each was also an operator
 * chain through the same Reactor code as every request; without it, key auth takes about 3% less
 * CPU per request (bench/RESULTS.md, "a tenth look"). Only {@link #publish} (an admin change)
 * stays reactive, as its callers are.
 */
public class RedisInvalidationBus implements InvalidationBus, SmartLifecycle {

	private static final Log logger = LogFactory.getLog(RedisInvalidationBus.class);

	private final RedisConnectionFactory connectionFactory;

	private final ReactiveStringRedisTemplate redis;

	private final StringRedisTemplate heartbeats;

	private final String channel;

	private final String heartbeatChannel;

	/** The two channels as Redis names them in messages, encoded once. */
	private final byte[] channelBytes;

	private final byte[] heartbeatChannelBytes;

	private final Duration heartbeatInterval;

	private final Duration timeout;

	private final MonotonicClock clock;

	private final LocalCacheEvictions evictions;

	private volatile @Nullable ScheduledExecutorService heartbeatSender;

	/** The connection subscribed to both channels; written by the heartbeat thread only. */
	private volatile @Nullable RedisConnection subscription;

	private volatile long confirmedThrough;

	private volatile boolean started;

	private volatile boolean subscriptionHealthy = true;

	/** Whether Redis has confirmed a subscription to the invalidation channel before. */
	private volatile boolean subscribedBefore;

	private volatile KeyAuthMetrics metrics = KeyAuthMetrics.NONE;

	/** Heartbeat thread only. */
	private final DeliveryWatch deliveries;

	public void setMetrics(KeyAuthMetrics metrics) {
		this.metrics = metrics;
	}

	/** Whether the last heartbeat arrived recently: the subscription delivers. */
	public boolean isConfirmed() {
		long confirmed = this.confirmedThrough;
		return confirmed != 0
				&& this.clock.monotonicMillis() - confirmed <= 3 * this.heartbeatInterval.toMillis() + 500;
	}

	/**
	 * @param channel the channel every instance publishes invalidations to
	 * @param heartbeatInterval how often this instance proves its subscription
	 * @param timeout bound on each invalidation publish
	 * @param clock the time the heartbeats carry: only this instance reads them, so its own
	 * monotonic time, which a wall clock stepped back cannot make look old
	 */
	public RedisInvalidationBus(RedisConnectionFactory connectionFactory, ReactiveStringRedisTemplate redis,
			String channel, Duration heartbeatInterval, Duration timeout, MonotonicClock clock,
			LocalCacheEvictions evictions) {
		this.connectionFactory = connectionFactory;
		this.redis = redis;
		this.heartbeats = new StringRedisTemplate(connectionFactory);
		this.channel = channel;
		this.heartbeatChannel = heartbeatChannelPrefix(channel) + UUID.randomUUID();
		this.channelBytes = channel.getBytes(StandardCharsets.UTF_8);
		this.heartbeatChannelBytes = this.heartbeatChannel.getBytes(StandardCharsets.UTF_8);
		this.heartbeatInterval = heartbeatInterval;
		this.timeout = timeout;
		this.clock = clock;
		this.evictions = evictions;
		// Ten heartbeats, and never less than two seconds: long past any pause of a healthy Redis
		// worth tolerating, short next to how long a dead connection would otherwise be kept.
		this.deliveries = new DeliveryWatch(Math.max(10 * heartbeatInterval.toMillis(), 2000));
	}

	/**
	 * What every instance's heartbeat channel starts with (each adds an id of its own), so that
	 * heartbeats can be told apart from invalidations elsewhere ({@link HeartbeatObservationPredicate}).
	 */
	public static String heartbeatChannelPrefix(String channel) {
		return channel + ":heartbeat:";
	}

	@Override
	public Mono<Void> publish(KeyHash hash) {
		return Timeouts.within(this.redis.convertAndSend(this.channel, hash.toHex()), this.timeout).then();
	}

	@Override
	public long confirmedThrough() {
		return this.confirmedThrough;
	}

	@Override
	public void start() {
		this.started = true;
		ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "keyauth-heartbeat");
			thread.setDaemon(true);
			return thread;
		});
		// With a fixed delay, a call that waits for Redis (down: until the command times out)
		// holds back the next heartbeat rather than piling them up; the heartbeats that are not
		// sent meanwhile are what tells every local entry to stop being trusted.
		sender.scheduleWithFixedDelay(this::tick, 0, this.heartbeatInterval.toMillis(), TimeUnit.MILLISECONDS);
		this.heartbeatSender = sender;
	}

	private void tick() {
		try {
			subscribeOrBeat();
		}
		catch (RuntimeException ex) {
			// Redis unreachable: the missing heartbeat is the signal, and the next tick tries
			// again (an exception escaping a scheduled task would cancel every later one).
			logger.debug("Key invalidation heartbeat failed", ex);
		}
	}

	private void subscribeOrBeat() {
		RedisConnection subscription = this.subscription;
		if (subscription == null || !subscription.isSubscribed()) {
			// Not subscribed yet (Redis down at start-up) or any more: once subscribed, Lettuce
			// reconnects and resubscribes by itself after an outage, so this retries only until
			// the first success, once per heartbeat interval.
			subscribe(subscription);
			return;
		}
		long now = this.clock.monotonicMillis();
		this.heartbeats.convertAndSend(this.heartbeatChannel, Long.toString(now));
		// Redis took the heartbeat. If one it took long ago has still not come back, the
		// subscription's connection is dead although still open.
		long undeliveredFor = this.deliveries.accepted(now, this.confirmedThrough);
		if (undeliveredFor >= 0) {
			logger.warn("Redis accepted this instance's invalidation heartbeats but delivered none for "
					+ undeliveredFor + " ms; subscribing again on a new connection");
			this.metrics.subscriptionReplaced();
			this.subscription = null;
			closeInBackground(subscription);
			subscribe(null);
		}
	}

	/**
	 * Unsubscribing waits for Redis's reply, which a dead connection never sends: on a thread of
	 * its own, until the command times out, so that the heartbeats go on.
	 */
	private static void closeInBackground(RedisConnection connection) {
		Thread closer = new Thread(() -> closeQuietly(connection), "keyauth-subscription-close");
		closer.setDaemon(true);
		closer.start();
	}

	private void subscribe(@Nullable RedisConnection previous) {
		closeQuietly(previous);
		this.subscription = null;
		RedisConnection connection = null;
		try {
			connection = this.connectionFactory.getConnection();
			// Messages are handled on Lettuce's I/O thread as they arrive: a volatile write or a
			// cache eviction.
			connection.subscribe(new Listener(), this.channelBytes, this.heartbeatChannelBytes);
			this.subscription = connection;
		}
		catch (RuntimeException ex) {
			closeQuietly(connection);
			onSubscriptionError(ex);
		}
	}

	private static void closeQuietly(@Nullable RedisConnection connection) {
		if (connection != null) {
			try {
				connection.close();
			}
			catch (RuntimeException ex) {
				logger.debug("Could not close a key invalidation subscription", ex);
			}
		}
	}

	// One warning per outage, not one per recovery attempt.
	private void onSubscriptionError(Throwable ex) {
		if (this.subscriptionHealthy) {
			this.subscriptionHealthy = false;
			logger.warn("Could not subscribe to key invalidations; retrying every heartbeat interval, and meanwhile "
					+ "trusting cached keys only briefly: " + ex);
		}
		else {
			logger.debug("Key invalidation subscription still failing", ex);
		}
	}

	/**
	 * Redis confirmed a subscription to the invalidation channel: the first, one made again after
	 * a dead one, or one Lettuce restored after a reconnect. Nothing published before it will
	 * arrive, and a reconnect can be over within milliseconds, too soon for a heartbeat to go
	 * missing and show the gap; so every local entry is read again before its next use, as after
	 * a gap in the heartbeats.
	 */
	private void onSubscribed(byte[] channel) {
		if (!Arrays.equals(this.channelBytes, channel)) {
			return;
		}
		if (this.subscribedBefore) {
			logger.info("Key invalidation subscription made again; re-reading every key in the in-process cache "
					+ "before its next use");
		}
		this.subscribedBefore = true;
		this.evictions.evictAll();
	}

	private void onMessage(Message message) {
		this.subscriptionHealthy = true;
		String body = new String(message.getBody(), StandardCharsets.UTF_8);
		if (Arrays.equals(this.heartbeatChannelBytes, message.getChannel())) {
			onHeartbeat(body);
			return;
		}
		try {
			this.evictions.evict(KeyHash.fromHex(body));
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
		// Only this JVM sends on this channel, on this clock: a heartbeat from its future was
		// written by something else with access to Redis, and would make every entry trusted
		// for as long as that future is away.
		if (sentAt <= previous || sentAt > this.clock.monotonicMillis()) {
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
		ScheduledExecutorService sender = this.heartbeatSender;
		this.heartbeatSender = null;
		if (sender != null) {
			sender.shutdownNow();
			try {
				// The last tick may still be subscribing: let it finish, so that its connection
				// is closed below and not left open.
				sender.awaitTermination(2, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		closeQuietly(this.subscription);
		this.subscription = null;
	}

	@Override
	public boolean isRunning() {
		return this.started;
	}

	/** Both the messages and Redis's confirmations of each subscription, on Lettuce's I/O thread. */
	private final class Listener implements MessageListener, SubscriptionListener {

		@Override
		public void onMessage(Message message, byte @Nullable [] pattern) {
			RedisInvalidationBus.this.onMessage(message);
		}

		@Override
		public void onChannelSubscribed(byte[] channel, long count) {
			onSubscribed(channel);
		}

	}

}
