package dev.keyauth.usage;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.KeyUsage;
import dev.keyauth.test.MutableClock;
import dev.keyauth.test.StuckCall;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** Batching rules, with the store's usage write captured; the SQL itself runs in the end-to-end tests. */
class BatchingKeyUsageRecorderTest {

	private final MutableClock clock = new MutableClock(Instant.parse("2026-11-27T12:00:00Z"));

	private final List<Collection<KeyUsage>> writes = new ArrayList<>();

	private final AtomicBoolean storeDown = new AtomicBoolean();

	private final AtomicBoolean storeStuck = new AtomicBoolean();

	private final ApiKeyStore store = mock(ApiKeyStore.class);

	private final BatchingKeyUsageRecorder recorder = new BatchingKeyUsageRecorder(this.store, Duration.ofHours(1),
			Duration.ofSeconds(1), this.clock);

	BatchingKeyUsageRecorderTest() {
		when(this.store.recordUsage(any())).thenAnswer((invocation) -> {
			if (this.storeDown.get()) {
				return Mono.error(new IllegalStateException("down"));
			}
			if (this.storeStuck.get()) {
				return new StuckCall().mono();
			}
			this.writes.add(List.copyOf(invocation.getArgument(0)));
			return Mono.empty();
		});
	}

	@Test
	void oneWritePerFlushWithCountsAndTheLatestUse() {
		UUID a = UUID.randomUUID();
		UUID b = UUID.randomUUID();
		this.recorder.record(a);
		this.clock.advance(Duration.ofSeconds(5));
		this.recorder.record(a);
		this.recorder.record(b);
		this.recorder.flush().block();
		assertThat(this.writes).hasSize(1);
		assertThat(this.writes.get(0)).containsExactlyInAnyOrder(
				new KeyUsage(a, 2, Instant.parse("2026-11-27T12:00:05Z")),
				new KeyUsage(b, 1, Instant.parse("2026-11-27T12:00:05Z")));
		this.recorder.flush().block();
		assertThat(this.writes).as("nothing new, nothing written").hasSize(1);
	}

	@Test
	void aWriteThatNeverAnswersTimesOutAndTheNextFlushWritesItsCounts() {
		UUID a = UUID.randomUUID();
		this.recorder.record(a);
		this.storeStuck.set(true);
		// The store timeout is 1 s: the flush ends, keeping the count, instead of stopping every
		// later flush behind it.
		StepVerifier.create(this.recorder.flush()).expectComplete().verify(Duration.ofSeconds(10));
		this.storeStuck.set(false);
		this.recorder.flush().block();
		assertThat(this.writes).hasSize(1);
		assertThat(this.writes.get(0)).extracting(KeyUsage::count).containsExactly(1L);
	}

	@Test
	void aFailedFlushKeepsItsCountsForTheNextOne() {
		UUID a = UUID.randomUUID();
		this.recorder.record(a);
		this.storeDown.set(true);
		this.recorder.flush().block();
		this.storeDown.set(false);
		this.recorder.record(a);
		this.recorder.flush().block();
		assertThat(this.writes).hasSize(1);
		assertThat(this.writes.get(0)).extracting(KeyUsage::count).containsExactly(2L);
	}

	@Test
	void manyKeysAreWrittenInBoundedStatementsAndAFailedOneIsKept() {
		int keys = 2 * BatchingKeyUsageRecorder.CHUNK + 10;
		for (int i = 0; i < keys; i++) {
			this.recorder.record(UUID.randomUUID());
		}
		// The second statement fails; the other two are written.
		AtomicInteger calls = new AtomicInteger();
		doAnswer((invocation) -> {
			if (calls.incrementAndGet() == 2) {
				return Mono.error(new IllegalStateException("timed out"));
			}
			this.writes.add(List.copyOf(invocation.getArgument(0)));
			return Mono.empty();
		}).when(this.store).recordUsage(any());
		this.recorder.flush().block();
		assertThat(this.writes).extracting(Collection::size)
			.containsExactly(BatchingKeyUsageRecorder.CHUNK, 10);
		this.recorder.flush().block();
		assertThat(this.writes).as("the failed statement's keys, written with the next flush").hasSize(3);
		assertThat(this.writes.get(2)).hasSize(BatchingKeyUsageRecorder.CHUNK);
	}

	@Test
	void everyUseIsWrittenOnceWhileFlushesDropIdleCounters() throws Exception {
		// Two threads count one key in short bursts while flushes run back to back, so counters
		// are dropped as idle while a thread is about to count on them. Without moving such late
		// counts to the key's next counter, some uses were lost.
		UUID key = UUID.randomUUID();
		int threads = 2;
		int perThread = 200_000;
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		CountDownLatch start = new CountDownLatch(1);
		List<Future<?>> counting = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			counting.add(pool.submit(() -> {
				start.await();
				for (int i = 0; i < perThread; i++) {
					this.recorder.record(key);
					if (i % 8 == 0) {
						Thread.yield();
					}
				}
				return null;
			}));
		}
		start.countDown();
		while (!counting.stream().allMatch(Future::isDone)) {
			this.recorder.flush().block();
		}
		for (Future<?> done : counting) {
			done.get();
		}
		pool.shutdown();
		this.recorder.flush().block();
		assertThat(this.writes.stream().flatMap(Collection::stream).mapToLong(KeyUsage::count).sum())
			.isEqualTo((long) threads * perThread);
	}

	@Test
	void stoppingFlushesWhatIsPending() {
		this.recorder.start();
		this.recorder.record(UUID.randomUUID());
		this.recorder.stop();
		assertThat(this.writes).hasSize(1);
		assertThat(this.recorder.isRunning()).isFalse();
	}

	@Test
	void stoppingDuringAFlushLetsItsWriteFinish() throws Exception {
		// The periodic flush has drained the counts and its write is on its way when the gateway
		// shuts down: cancelling that write would lose them, since they are no longer pending.
		CountDownLatch writing = new CountDownLatch(1);
		ApiKeyStore slowStore = mock(ApiKeyStore.class);
		when(slowStore.recordUsage(any())).thenAnswer((invocation) -> {
			List<KeyUsage> usage = List.copyOf(invocation.getArgument(0));
			writing.countDown();
			return Mono.delay(Duration.ofMillis(300)).then(Mono.fromRunnable(() -> this.writes.add(usage)));
		});
		BatchingKeyUsageRecorder recorder = new BatchingKeyUsageRecorder(slowStore, Duration.ofMillis(20),
				Duration.ofSeconds(1), this.clock);
		UUID key = UUID.randomUUID();
		recorder.record(key);
		recorder.start();
		assertThat(writing.await(5, TimeUnit.SECONDS)).isTrue();
		recorder.stop();
		assertThat(this.writes).containsExactly(List.of(new KeyUsage(key, 1, this.clock.instant())));
		assertThat(recorder.isRunning()).isFalse();
	}

	@Test
	void anUnexpectedErrorInOneFlushDoesNotEndTheLaterOnes() throws Exception {
		// A store that throws instead of answering with an error: a bug, not an outage. The next
		// periodic flush must still run.
		AtomicInteger calls = new AtomicInteger();
		CountDownLatch written = new CountDownLatch(1);
		ApiKeyStore brokenOnce = mock(ApiKeyStore.class);
		when(brokenOnce.recordUsage(any())).thenAnswer((invocation) -> {
			if (calls.incrementAndGet() == 1) {
				throw new IllegalStateException("bug");
			}
			this.writes.add(List.copyOf(invocation.getArgument(0)));
			written.countDown();
			return Mono.empty();
		});
		BatchingKeyUsageRecorder recorder = new BatchingKeyUsageRecorder(brokenOnce, Duration.ofMillis(20),
				Duration.ofSeconds(1), this.clock);
		recorder.record(UUID.randomUUID());
		recorder.start();
		try {
			while (calls.get() == 0) {
				Thread.sleep(5);
			}
			UUID later = UUID.randomUUID();
			recorder.record(later);
			assertThat(written.await(5, TimeUnit.SECONDS)).isTrue();
			assertThat(this.writes.get(0)).extracting(KeyUsage::id).containsExactly(later);
		}
		finally {
			recorder.stop();
		}
	}

}
