package dev.keyauth.usage;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.KeyUsage;
import dev.keyauth.support.Timeouts;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import org.springframework.context.SmartLifecycle;

/**
 * Counts uses in memory and writes them to the store in one statement per interval, so
 * {@code last_used_at} and the request counters stay current within that interval without a
 * database write per request. Pending counts are flushed on graceful shutdown.
 * <p>
 * Failure mode: if a flush fails (store down), its counts are added back and written with the
 * next successful flush; nothing is lost unless the process dies while the store is down.
 */
public class BatchingKeyUsageRecorder implements KeyUsageRecorder, SmartLifecycle {

	/** The most keys one usage statement writes. */
	static final int CHUNK = 1000;

	private static final Log logger = LogFactory.getLog(BatchingKeyUsageRecorder.class);

	private final ApiKeyStore store;

	private final Duration interval;

	private final Duration timeout;

	private final Clock clock;

	private final Map<UUID, Counter> counters = new ConcurrentHashMap<>();

	private volatile @Nullable Flushing flushing;

	public BatchingKeyUsageRecorder(ApiKeyStore store, Duration interval, Duration timeout, Clock clock) {
		this.store = store;
		this.interval = interval;
		this.timeout = timeout;
		this.clock = clock;
	}

	@Override
	public void record(UUID keyId) {
		add(keyId, 1, this.clock.millis());
	}

	private void add(UUID keyId, long count, long lastUsed) {
		Counter counter = this.counters.computeIfAbsent(keyId, (id) -> new Counter());
		counter.add(count, lastUsed);
		if (counter.retired) {
			// The flush dropped this counter (idle) between our lookup and our count.
			moveToCurrent(keyId, counter);
		}
	}

	/**
	 * Moves what is left on a dropped counter to the key's current one. The flush and a late
	 * counter both call this; each takes its counts with {@link LongAdder#sumThenReset}, so every
	 * use is moved once, by whichever of them reads it.
	 */
	private void moveToCurrent(UUID keyId, Counter retired) {
		long late = retired.count.sumThenReset();
		if (late > 0) {
			add(keyId, late, retired.lastUsed.get());
		}
	}

	/** Writes what was counted since the last flush. */
	public Mono<Void> flush() {
		return Mono.defer(() -> {
			List<KeyUsage> batch = drain();
			if (batch.isEmpty()) {
				return Mono.empty();
			}
			// In statements of at most CHUNK keys, each with its own timeout: one statement for
			// every key used in the interval would, with enough keys, never finish in time, and
			// its keys would then pile up for the next flush forever.
			AtomicInteger kept = new AtomicInteger();
			AtomicReference<Throwable> lastFailure = new AtomicReference<>();
			return Flux.fromIterable(chunks(batch))
				// Timeouts.within: a statement whose timeout never fired would stop every later flush.
				.concatMap((chunk) -> Timeouts.within(this.store.recordUsage(chunk), this.timeout).onErrorResume((ex) -> {
					lastFailure.set(ex);
					kept.addAndGet(chunk.size());
					chunk.forEach((usage) -> add(usage.id(), usage.count(), usage.lastUsedAt().toEpochMilli()));
					return Mono.empty();
				}))
				.then(Mono.fromRunnable(() -> {
					if (kept.get() > 0) {
						logger.warn("Could not record key usage (" + kept.get() + " of " + batch.size()
								+ " keys); keeping it for the next flush: " + lastFailure.get());
					}
				}));
		});
	}

	private static List<List<KeyUsage>> chunks(List<KeyUsage> batch) {
		List<List<KeyUsage>> chunks = new ArrayList<>((batch.size() + CHUNK - 1) / CHUNK);
		for (int from = 0; from < batch.size(); from += CHUNK) {
			chunks.add(batch.subList(from, Math.min(from + CHUNK, batch.size())));
		}
		return chunks;
	}

	private List<KeyUsage> drain() {
		List<KeyUsage> batch = new ArrayList<>();
		this.counters.forEach((id, counter) -> {
			long count = counter.count.sumThenReset();
			if (count > 0) {
				batch.add(new KeyUsage(id, count, Instant.ofEpochMilli(counter.lastUsed.get())));
			}
			else if (this.counters.remove(id, counter)) {
				// Idle since the last flush: forgotten, so the map holds only keys in use. A use
				// counted on it meanwhile moves to the key's next counter.
				counter.retired = true;
				moveToCurrent(id, counter);
			}
		});
		return batch;
	}

	@Override
	public void start() {
		Sinks.One<Boolean> stop = Sinks.one();
		CompletableFuture<Void> done = Flux.interval(this.interval, this.interval)
			.takeUntilOther(stop.asMono())
			.onBackpressureDrop()
			.concatMap((tick) -> flush().onErrorResume((ex) -> {
				// Not a store failure (flush keeps those for the next one) but a bug: log it and
				// keep flushing, rather than let one error end every later flush.
				logger.error("Key usage flush failed", ex);
				return Mono.empty();
			}))
			.then()
			.toFuture();
		this.flushing = new Flushing(stop, done);
	}

	@Override
	public void stop() {
		Flushing running = this.flushing;
		this.flushing = null;
		if (running != null) {
			// Let a flush already under way finish rather than cancel it: its counts have left
			// the counters, and a cancelled write would lose them. Each of its writes ends within
			// the timeout (a failed one is kept for the final flush below); a flush of several
			// chunks is waited for up to one timeout and a second, then left to go on.
			running.stop.tryEmitValue(true);
			try {
				running.done.get(this.timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			catch (ExecutionException | TimeoutException ex) {
				logger.warn("Key usage flush did not end at shutdown: " + ex);
			}
		}
		// Graceful shutdown: requests have finished; write what they counted.
		flush().block(this.timeout.plusSeconds(1));
	}

	@Override
	public boolean isRunning() {
		return this.flushing != null;
	}

	@Override
	public int getPhase() {
		// Lower than the web server's graceful shutdown (DEFAULT_PHASE - 1024) and its stop
		// (DEFAULT_PHASE - 2048): stopped, and so flushed, after in-flight requests have finished
		// and been counted, and before beans such as the connection pool are destroyed.
		return SmartLifecycle.DEFAULT_PHASE - 4096;
	}

	/** The periodic flushes: {@code stop} ends them after the one under way, then {@code done} completes. */
	private record Flushing(Sinks.One<Boolean> stop, CompletableFuture<Void> done) {
	}

	/**
	 * One key's uses since the last flush. A busy key is counted by every event-loop thread at
	 * once: the count is striped ({@link LongAdder}) and the last use is written only when it
	 * moves forward (at most once a millisecond), so that threads counting the same key do not
	 * take turns owning one cache line on every request.
	 */
	private static final class Counter {

		final LongAdder count = new LongAdder();

		final AtomicLong lastUsed = new AtomicLong();

		/** Set once the flush has removed this counter from the map. */
		volatile boolean retired;

		void add(long count, long lastUsed) {
			this.count.add(count);
			advanceLastUsed(lastUsed);
		}

		private void advanceLastUsed(long time) {
			long current = this.lastUsed.get();
			while (time > current && !this.lastUsed.compareAndSet(current, time)) {
				current = this.lastUsed.get();
			}
		}

	}

}
