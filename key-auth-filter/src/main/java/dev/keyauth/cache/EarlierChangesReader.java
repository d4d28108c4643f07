package dev.keyauth.cache;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.support.Timeouts;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Tells a starting instance's lookup which keys changed within the age a Redis entry may have
 * ({@link TieredApiKeyLookup#heardOfEarlierChange}), read from the store: once at start-up,
 * where waiting is allowed, and, if the store cannot be read then (with migrations on, start-up
 * has only just reached it), again in the background until it can or until no entry read before
 * start-up can still be in Redis.
 * <p>
 * Until the read succeeds, a Redis entry of a key changed before start-up is held to its age
 * alone by this instance: the instance serves as it would without the read, and says so.
 */
public final class EarlierChangesReader implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(EarlierChangesReader.class);

	private final ApiKeyStore store;

	private final TieredApiKeyLookup lookup;

	private final Clock clock;

	private final Duration timeout;

	private final Duration firstRetry;

	private volatile @Nullable Disposable retries;

	public EarlierChangesReader(ApiKeyStore store, TieredApiKeyLookup lookup, Clock clock, Duration timeout) {
		this(store, lookup, clock, timeout, Duration.ofSeconds(1));
	}

	EarlierChangesReader(ApiKeyStore store, TieredApiKeyLookup lookup, Clock clock, Duration timeout,
			Duration firstRetry) {
		this.store = store;
		this.lookup = lookup;
		this.clock = clock;
		this.timeout = timeout;
		this.firstRetry = firstRetry;
	}

	/**
	 * Reads the changes, blocking the calling (start-up) thread for at most the store's timeout;
	 * on failure, logs what that leaves and goes on trying in the background.
	 */
	public void read() {
		Duration window = this.lookup.changesWorthKnowing();
		try {
			int count = readOnce(window).block(this.timeout.plusSeconds(5));
			logger.debug("Read " + count + " API keys changed in the last " + window.toSeconds() + " s");
		}
		catch (UnsupportedOperationException ex) {
			// Asking again will not help: the store cannot report changes at all.
			logger.warn(cannotRule(window, ex));
		}
		catch (RuntimeException ex) {
			logger.warn(cannotRule(window, ex) + " until the key store answers; trying again in the background");
			retryInTheBackground(window);
		}
	}

	private void retryInTheBackground(Duration window) {
		AtomicLong attempts = new AtomicLong();
		AtomicInteger read = new AtomicInteger(-1);
		this.retries = Mono.defer(() -> {
			attempts.incrementAndGet();
			return readOnce(window);
		})
			.retryWhen(Retry.backoff(Long.MAX_VALUE, this.firstRetry)
				.maxBackoff(Duration.ofSeconds(15))
				.filter((ex) -> !(ex instanceof UnsupportedOperationException)))
			// The start-up read has just failed: the first attempt here waits as a retry would.
			.delaySubscription(this.firstRetry)
			// Past the window every entry read before start-up has aged out: nothing left to learn.
			.take(window)
			.subscribe(read::set, (ex) -> logger.warn(cannotRule(window, ex)),
					() -> logger.info((read.get() >= 0)
							? "Read the " + read.get() + " API keys changed in the last " + window.toSeconds()
									+ " s from the key store, at attempt " + (attempts.get() + 1) + " (the first at start-up)"
							: "Stopped asking the key store for the API keys changed before start-up: entries "
									+ "read before it have aged out of Redis by now"));
	}

	private Mono<Integer> readOnce(Duration window) {
		Instant since = this.clock.instant().minus(window);
		// Timeouts.within, not a bare timeout: an attempt whose cancellation threw would never
		// end, and the background attempts with it.
		return Timeouts.within(this.store.changedSince(since, TieredApiKeyLookup.CHANGES_REMEMBERED)
			.doOnNext((change) -> this.lookup.heardOfEarlierChange(change.hash(), change.at()))
			.count(), this.timeout)
			.map(Long::intValue);
	}

	private static String cannotRule(Duration window, Throwable ex) {
		return "Could not read the API keys changed in the last " + window.toSeconds() + " s from the key store ("
				+ ex + "); a Redis entry of such a key read before its change is held to its age alone by this "
				+ "instance";
	}

	/** Stops the background reads, if any are still going. */
	@Override
	public void close() {
		Disposable retries = this.retries;
		if (retries != null) {
			retries.dispose();
		}
	}

}
