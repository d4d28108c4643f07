package dev.keyauth.usage;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.KeyUsage;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

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

	private static final Log logger = LogFactory.getLog(BatchingKeyUsageRecorder.class);

	private final ApiKeyStore store;

	private final Duration interval;

	private final Duration timeout;

	private final Clock clock;

	private final Map<UUID, Counter> counters = new ConcurrentHashMap<>();

	private volatile Disposable flushing;

	public BatchingKeyUsageRecorder(ApiKeyStore store, Duration interval, Duration timeout, Clock clock) {
		this.store = store;
		this.interval = interval;
		this.timeout = timeout;
		this.clock = clock;
	}

	@Override
	public void record(UUID keyId) {
		this.counters.computeIfAbsent(keyId, (id) -> new Counter()).hit(this.clock.millis());
	}

	/** Writes what was counted since the last flush. */
	public Mono<Void> flush() {
		return Mono.defer(() -> {
			List<KeyUsage> batch = drain();
			if (batch.isEmpty()) {
				return Mono.empty();
			}
			return this.store.recordUsage(batch).timeout(this.timeout).onErrorResume((ex) -> {
				logger.warn("Could not record key usage (" + batch.size() + " keys); keeping it for the next flush: "
						+ ex);
				batch.forEach((usage) -> this.counters.computeIfAbsent(usage.id(), (id) -> new Counter())
					.add(usage.count(), usage.lastUsedAt().toEpochMilli()));
				return Mono.empty();
			});
		});
	}

	private List<KeyUsage> drain() {
		List<KeyUsage> batch = new ArrayList<>();
		this.counters.forEach((id, counter) -> {
			long count = counter.count.getAndSet(0);
			if (count > 0) {
				batch.add(new KeyUsage(id, count, Instant.ofEpochMilli(counter.lastUsed.get())));
			}
			else {
				// Idle since the last flush: forget it, so the map holds only keys in use.
				this.counters.remove(id, counter);
			}
		});
		return batch;
	}

	@Override
	public void start() {
		this.flushing = Flux.interval(this.interval, this.interval).onBackpressureDrop().concatMap((tick) -> flush())
			.subscribe();
	}

	@Override
	public void stop() {
		Disposable running = this.flushing;
		this.flushing = null;
		if (running != null) {
			running.dispose();
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

	private static final class Counter {

		final AtomicLong count = new AtomicLong();

		final AtomicLong lastUsed = new AtomicLong();

		void hit(long now) {
			this.count.incrementAndGet();
			this.lastUsed.accumulateAndGet(now, Math::max);
		}

		void add(long count, long lastUsed) {
			this.count.addAndGet(count);
			this.lastUsed.accumulateAndGet(lastUsed, Math::max);
		}

	}

}
