package dev.keyauth.support;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.connection.ReactiveRedisClusterConnection;
import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * Opens the Redis connections the plugin shares on a thread that may wait, and keeps the
 * plugin's Redis calls off them until they are open.
 * <p>
 * Spring Data Redis opens Lettuce's shared connection on the first call that needs it, with a
 * blocking connect on the calling thread, under a lock of the connection factory's that every
 * later call takes too. In a gateway that thread is an event loop. With Redis unreachable when
 * an instance starts, each request that asked Redis would hold its event loop for a connect
 * attempt (up to Lettuce's connect timeout, ten seconds by default, where a partition drops the
 * packets), and the other event loops would queue on that lock behind it. So the connections
 * are opened at start-up ({@link #open()}, on the main thread), and if Redis cannot be reached
 * then, by a thread of this class's own, once per retry interval, until it can. Meanwhile every
 * call through {@link #connectionFactory()} fails at once, as calls to a Redis that is down do,
 * and each caller does what it does then: the Redis tier answers "miss", a rate limit fails open
 * or closed as configured, an invalidation is retried in the background. Once open, Lettuce
 * reconnects by itself after an outage, off the callers' threads.
 */
public final class RedisConnectionOpener implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(RedisConnectionOpener.class);

	private final ReactiveRedisConnectionFactory connectionFactory;

	private final Duration retryInterval;

	private final ReactiveRedisConnectionFactory openedOnly = new OpenedOnly();

	private volatile boolean open;

	private @Nullable ScheduledExecutorService retries;

	private boolean closed;

	public RedisConnectionOpener(ReactiveRedisConnectionFactory connectionFactory, Duration retryInterval) {
		this.connectionFactory = connectionFactory;
		this.retryInterval = retryInterval;
	}

	/**
	 * Opens the connections on the calling thread, which may wait for Redis; if that fails,
	 * goes on trying in the background.
	 * @throws RuntimeException what the connection factory threw, once the retries are started
	 */
	public void open() {
		RuntimeException failure = tryOpen();
		if (failure != null) {
			startRetrying();
			throw failure;
		}
	}

	/** Whether calls through {@link #connectionFactory()} reach Redis. */
	public boolean isOpen() {
		return this.open;
	}

	/**
	 * The connection factory the plugin's Redis calls go through: the application's, once the
	 * connections are open; until then, one that fails every call at once.
	 */
	public ReactiveRedisConnectionFactory connectionFactory() {
		return this.openedOnly;
	}

	/**
	 * Whether {@code factory} is the one this opener opens, so that calls through it can go
	 * through {@link #connectionFactory()} instead.
	 */
	public boolean opens(ReactiveRedisConnectionFactory factory) {
		return factory == this.connectionFactory;
	}

	private @Nullable RuntimeException tryOpen() {
		try {
			this.connectionFactory.getReactiveConnection().close();
			// Lettuce's factory keeps a second shared connection for imperative calls (the
			// invalidation heartbeats), opened the same way under the same lock: opened here too,
			// so that a heartbeat thread connecting later does not hold the event loops' lock.
			if (this.connectionFactory instanceof RedisConnectionFactory imperative) {
				imperative.getConnection().close();
			}
			this.open = true;
			return null;
		}
		catch (RuntimeException ex) {
			return ex;
		}
	}

	private synchronized void startRetrying() {
		if (this.closed || this.retries != null) {
			return;
		}
		ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "keyauth-redis-connect");
			thread.setDaemon(true);
			return thread;
		});
		long interval = this.retryInterval.toMillis();
		executor.scheduleWithFixedDelay(this::retry, interval, interval, TimeUnit.MILLISECONDS);
		this.retries = executor;
	}

	private void retry() {
		RuntimeException failure = tryOpen();
		if (failure != null) {
			logger.debug("Redis still not reachable", failure);
			return;
		}
		logger.info("Redis reachable: the Redis cache tier, key invalidations and rate limits are in use again");
		stopRetrying();
	}

	private synchronized void stopRetrying() {
		if (this.retries != null) {
			this.retries.shutdown();
			this.retries = null;
		}
	}

	@Override
	public synchronized void close() {
		this.closed = true;
		stopRetrying();
	}

	private final class OpenedOnly implements ReactiveRedisConnectionFactory {

		@Override
		public ReactiveRedisConnection getReactiveConnection() {
			if (!RedisConnectionOpener.this.open) {
				throw new NotOpenException();
			}
			return RedisConnectionOpener.this.connectionFactory.getReactiveConnection();
		}

		@Override
		public ReactiveRedisClusterConnection getReactiveClusterConnection() {
			if (!RedisConnectionOpener.this.open) {
				throw new NotOpenException();
			}
			return RedisConnectionOpener.this.connectionFactory.getReactiveClusterConnection();
		}

		@Override
		public @Nullable DataAccessException translateExceptionIfPossible(RuntimeException ex) {
			return RedisConnectionOpener.this.connectionFactory.translateExceptionIfPossible(ex);
		}

	}

	/**
	 * A call made before the connections are open. Without a stack trace: there may be one per
	 * request until the callers' circuit breakers open, and the stack would say nothing the
	 * message does not.
	 */
	static final class NotOpenException extends RedisConnectionFailureException {

		NotOpenException() {
			super("Redis has not been reachable since this instance started; connecting in the background");
		}

		@Override
		public synchronized Throwable fillInStackTrace() {
			return this;
		}

	}

}
