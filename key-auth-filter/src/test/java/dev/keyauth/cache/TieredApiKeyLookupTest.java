package dev.keyauth.cache;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.test.MutableClock;
import dev.keyauth.test.StuckCall;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The in-process tier's rules, with the store replaced by a map and time by a hand-moved clock.
 * Redis and PostgreSQL behind it are exercised by the multi-instance and degraded-mode tests.
 */
class TieredApiKeyLookupTest {

	private static final Instant T0 = Instant.parse("2026-11-27T12:00:00Z");

	private final MutableClock clock = new MutableClock(T0);

	private final Map<KeyHash, ApiKey> rows = new ConcurrentHashMap<>();

	private final AtomicInteger queries = new AtomicInteger();

	private final AtomicBoolean storeDown = new AtomicBoolean();

	private final ApiKeyLookup store = (hash) -> Mono.defer(() -> {
		this.queries.incrementAndGet();
		return this.storeDown.get() ? Mono.error(new IllegalStateException("store down"))
				: Mono.justOrEmpty(this.rows.get(hash));
	});

	private final CachePolicy policy = new CachePolicy(Duration.ofSeconds(60), Duration.ofSeconds(10),
			Duration.ofSeconds(60), Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(1));

	private TieredApiKeyLookup lookup(ApiKeyLookup store) {
		return new TieredApiKeyLookup(store, 1000, null, this.policy, this.clock, this.clock, Duration.ofSeconds(1),
				CircuitBreaker.ofDefaults("test"));
	}

	private final TieredApiKeyLookup lookup = lookup(this.store);

	private KeyHash stored() {
		KeyHash hash = KeyHash.sha256(UUID.randomUUID().toString());
		this.rows.put(hash, new ApiKey(UUID.randomUUID(), "sk_live_abcd", "acme", null, List.of(), Map.of(), T0, null,
				null, null));
		return hash;
	}

	private void expectFound(KeyHash hash) {
		expectFound(this.lookup, hash);
	}

	private static void expectFound(TieredApiKeyLookup lookup, KeyHash hash) {
		StepVerifier.create(lookup.findByHash(hash)).expectNextCount(1).verifyComplete();
	}

	@Test
	void aFoundKeyIsServedFromMemoryUntilItsTtl() {
		KeyHash hash = stored();
		for (int i = 0; i < 10; i++) {
			expectFound(hash);
		}
		assertThat(this.queries).hasValue(1);
		this.clock.advance(Duration.ofSeconds(61));
		expectFound(hash);
		assertThat(this.queries).hasValue(2);
	}

	@Test
	void notFoundIsRememberedForTheNegativeTtlOnly() {
		KeyHash unknown = KeyHash.sha256("unknown");
		for (int i = 0; i < 10; i++) {
			StepVerifier.create(this.lookup.findByHash(unknown)).verifyComplete();
		}
		assertThat(this.queries).hasValue(1);
		this.clock.advance(Duration.ofSeconds(11));
		StepVerifier.create(this.lookup.findByHash(unknown)).verifyComplete();
		assertThat(this.queries).hasValue(2);
	}

	@Test
	void anEvictedKeyIsReadAgain() {
		KeyHash hash = stored();
		expectFound(hash);
		this.lookup.evict(hash);
		expectFound(hash);
		this.lookup.evictAll();
		expectFound(hash);
		assertThat(this.queries).hasValue(3);
	}

	@Test
	void whileTheStoreIsDownAKnownKeyKeepsWorkingForStaleIfErrorThenFails() {
		KeyHash hash = stored();
		KeyHash neverSeen = stored();
		expectFound(hash);
		this.storeDown.set(true);
		this.clock.advance(Duration.ofSeconds(61));
		expectFound(hash);
		StepVerifier.create(this.lookup.findByHash(neverSeen)).verifyErrorMessage("store down");
		int queriesWhileDown = this.queries.get();
		// Served stale without asking the store again for the retry interval.
		expectFound(hash);
		assertThat(this.queries).hasValue(queriesWhileDown);
		this.clock.advance(Duration.ofMinutes(5));
		StepVerifier.create(this.lookup.findByHash(hash)).verifyErrorMessage("store down");
	}

	@Test
	void afterEvictAllEveryKeyIsReadAgainButServedStaleIfTheStoreIsDown() {
		KeyHash hash = stored();
		KeyHash other = stored();
		expectFound(hash);
		expectFound(other);
		this.clock.advance(Duration.ofMillis(1));
		// Heartbeats resumed after a Redis outage, while PostgreSQL is down too.
		this.lookup.evictAll();
		this.storeDown.set(true);
		expectFound(hash);
		assertThat(this.queries).as("the evicted entry was read again").hasValue(3);
		this.storeDown.set(false);
		this.clock.advance(Duration.ofSeconds(1));
		expectFound(other);
		assertThat(this.queries).hasValue(4);
		// Read again after the eviction, it is trusted again.
		expectFound(other);
		assertThat(this.queries).hasValue(4);
	}

	@Test
	void aLoadThatNeverEndsIsEndedByTheLoadBoundAndTheNextRequestLoadsAgain() {
		AtomicBoolean stuck = new AtomicBoolean(true);
		TieredApiKeyLookup lookup = lookup((hash) -> Mono.defer(() -> {
			this.queries.incrementAndGet();
			return stuck.get() ? new StuckCall().<ApiKey>mono() : Mono.justOrEmpty(this.rows.get(hash));
		}));
		KeyHash hash = stored();
		// Store timeout 1 s, no Redis: the bound is 2 s. Every caller meanwhile shares the load.
		StepVerifier.create(lookup.findByHash(hash))
			.expectError(TimeoutException.class)
			.verify(Duration.ofSeconds(10));
		stuck.set(false);
		expectFound(lookup, hash);
		assertThat(this.queries).hasValue(2);
	}

	@Test
	void aLoadThatNeverEndsServesTheStaleAnswerWithinStaleIfError() {
		AtomicBoolean stuck = new AtomicBoolean();
		TieredApiKeyLookup lookup = lookup((hash) -> Mono.defer(() -> {
			this.queries.incrementAndGet();
			return stuck.get() ? new StuckCall().<ApiKey>mono() : Mono.justOrEmpty(this.rows.get(hash));
		}));
		KeyHash hash = stored();
		expectFound(lookup, hash);
		stuck.set(true);
		this.clock.advance(Duration.ofSeconds(61));
		StepVerifier.create(lookup.findByHash(hash)).expectNextCount(1).expectComplete().verify(Duration.ofSeconds(10));
		assertThat(this.queries).hasValue(2);
	}

	@Test
	void aFailedLoadIsNotCached() {
		KeyHash hash = stored();
		this.storeDown.set(true);
		StepVerifier.create(this.lookup.findByHash(hash)).verifyErrorMessage("store down");
		this.storeDown.set(false);
		expectFound(hash);
		assertThat(this.queries).hasValue(2);
		assertThat(this.lookup.localSize()).isEqualTo(1);
	}

	@Test
	void withoutConfirmationFromTheBusEntriesAreTrustedOnlyBriefly() {
		AtomicInteger confirmed = new AtomicInteger();
		long start = this.clock.monotonicMillis();
		this.lookup.setInvalidationBus(confirmedThrough(() -> start + confirmed.get()));
		KeyHash hash = stored();
		expectFound(hash);
		this.clock.advance(Duration.ofMillis(900));
		expectFound(hash);
		assertThat(this.queries).as("within the trust bound").hasValue(1);
		this.clock.advance(Duration.ofMillis(200));
		expectFound(hash);
		assertThat(this.queries).as("past the bound with no confirmation: re-read").hasValue(2);
		confirmed.set(1100);
		this.clock.advance(Duration.ofMillis(900));
		expectFound(hash);
		assertThat(this.queries).as("confirmed again").hasValue(2);
	}

	@Test
	void aWallClockSteppedBackDoesNotStretchTheTrustInAnUnconfirmedEntry() {
		// The last heartbeat came back just now; none will after it (Redis is cut off).
		long lastConfirmed = this.clock.monotonicMillis();
		this.lookup.setInvalidationBus(confirmedThrough(() -> lastConfirmed));
		KeyHash hash = stored();
		expectFound(hash);
		this.clock.stepWallClock(Duration.ofHours(-1));
		this.clock.advance(Duration.ofMillis(1100));
		expectFound(hash);
		assertThat(this.queries).as("past the trust bound, whatever the wall clock says: re-read").hasValue(2);
	}

	@Test
	void aWallClockSteppedBackDoesNotStretchTheTtlOrStaleIfError() {
		KeyHash hash = stored();
		expectFound(hash);
		this.clock.stepWallClock(Duration.ofHours(-1));
		this.clock.advance(Duration.ofSeconds(61));
		expectFound(hash);
		assertThat(this.queries).as("read again after the 60 s TTL").hasValue(2);
		this.storeDown.set(true);
		this.clock.advance(Duration.ofSeconds(61));
		expectFound(hash);
		this.clock.stepWallClock(Duration.ofHours(-1));
		this.clock.advance(Duration.ofMinutes(4));
		StepVerifier.create(this.lookup.findByHash(hash))
			.as("5 min of stale-if-error since the last read, whatever the wall clock says")
			.verifyErrorMessage("store down");
	}

	@Test
	void afterAWallClockSteppedBackEvictAllStillUntrustsEveryEarlierEntry() {
		KeyHash hash = stored();
		expectFound(hash);
		this.clock.stepWallClock(Duration.ofHours(-1));
		this.clock.advance(Duration.ofMillis(1));
		this.lookup.evictAll();
		expectFound(hash);
		assertThat(this.queries).as("the entry from before the step was read again").hasValue(2);
	}

	private static InvalidationBus confirmedThrough(LongSupplier confirmed) {
		return new InvalidationBus() {
			@Override
			public Mono<Void> publish(KeyHash hash) {
				return Mono.empty();
			}

			@Override
			public long confirmedThrough() {
				return confirmed.getAsLong();
			}
		};
	}

	@Test
	void concurrentMissesShareOneLoadAndAnEvictionDiscardsALoadInFlight() {
		Sinks.One<ApiKey> pending = Sinks.one();
		AtomicInteger loads = new AtomicInteger();
		KeyHash hash = stored();
		ApiKey row = this.rows.get(hash);
		TieredApiKeyLookup slow = lookup((h) -> Mono.defer(() -> {
			loads.incrementAndGet();
			return pending.asMono();
		}));
		List<Mono<ApiKey>> waiting = List.of(slow.findByHash(hash), slow.findByHash(hash), slow.findByHash(hash));
		waiting.forEach((mono) -> mono.subscribe());
		assertThat(loads).hasValue(1);
		slow.evict(hash);
		pending.tryEmitValue(row);
		StepVerifier.create(waiting.get(0)).expectNext(row).verifyComplete();
		assertThat(slow.localSize()).as("the answer of a load overtaken by an eviction is not kept").isZero();
	}

	private TieredApiKeyLookup refreshingAhead(ApiKeyLookup store) {
		CachePolicy refreshing = new CachePolicy(Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(60),
				Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofSeconds(5));
		return new TieredApiKeyLookup(store, 1000, null, refreshing, this.clock, this.clock, Duration.ofSeconds(1),
				CircuitBreaker.ofDefaults("test"));
	}

	@Test
	void aKeyInUseIsReadAgainInTheBackgroundBeforeItsTtlRunsOut() {
		KeyHash hash = stored();
		TieredApiKeyLookup refreshing = refreshingAhead(this.store);
		expectFound(refreshing, hash);
		this.clock.advance(Duration.ofSeconds(54));
		expectFound(refreshing, hash);
		assertThat(this.queries).as("not yet within 5 s of the TTL").hasValue(1);
		this.clock.advance(Duration.ofSeconds(2));
		expectFound(refreshing, hash);
		expectFound(refreshing, hash);
		assertThat(this.queries).as("one refresh for the requests of the last 5 s").hasValue(2);
		this.clock.advance(Duration.ofSeconds(10));
		expectFound(refreshing, hash);
		assertThat(this.queries).as("past the first answer's TTL, the refreshed one serves").hasValue(2);
	}

	@Test
	void theRequestThatStartsARefreshIsAnsweredAtOnceAndTheRefreshedAnswerServesLater() {
		KeyHash hash = stored();
		ApiKey row = this.rows.get(hash);
		ApiKey revoked = new ApiKey(row.id(), row.keyStart(), row.consumerId(), null, List.of(), Map.of(), T0,
				null, T0.plusSeconds(50), null);
		Sinks.One<ApiKey> reload = Sinks.one();
		AtomicInteger loads = new AtomicInteger();
		TieredApiKeyLookup refreshing = refreshingAhead((h) -> Mono.defer(() -> (loads.incrementAndGet() == 1)
				? Mono.just(row) : reload.asMono()));
		StepVerifier.create(refreshing.findByHash(hash)).expectNext(row).verifyComplete();
		this.clock.advance(Duration.ofSeconds(56));
		StepVerifier.create(refreshing.findByHash(hash)).expectNext(row).verifyComplete();
		StepVerifier.create(refreshing.findByHash(hash)).expectNext(row).verifyComplete();
		assertThat(loads).as("one refresh in flight, nobody waiting for it").hasValue(2);
		reload.tryEmitValue(revoked);
		StepVerifier.create(refreshing.findByHash(hash)).expectNext(revoked).verifyComplete();
	}

	@Test
	void aRefreshThatCannotReachTheStoreLeavesTheEntryAsItWas() {
		KeyHash hash = stored();
		TieredApiKeyLookup refreshing = refreshingAhead(this.store);
		expectFound(refreshing, hash);
		this.storeDown.set(true);
		this.clock.advance(Duration.ofSeconds(56));
		expectFound(refreshing, hash);
		expectFound(refreshing, hash);
		assertThat(this.queries).as("one attempt, not one per request").hasValue(2);
		this.clock.advance(Duration.ofSeconds(5));
		// Past the TTL: the request path reads again and, the store being down, serves it stale.
		expectFound(refreshing, hash);
		assertThat(this.queries).hasValue(3);
	}

	@Test
	void unknownKeysAreNotRefreshedAhead() {
		KeyHash unknown = KeyHash.sha256("unknown");
		TieredApiKeyLookup refreshing = refreshingAhead(this.store);
		StepVerifier.create(refreshing.findByHash(unknown)).verifyComplete();
		this.clock.advance(Duration.ofSeconds(9));
		StepVerifier.create(refreshing.findByHash(unknown)).verifyComplete();
		assertThat(this.queries).hasValue(1);
	}

	@Test
	void anEvictionDuringARefreshDiscardsTheRefreshedAnswer() {
		KeyHash hash = stored();
		ApiKey row = this.rows.get(hash);
		Sinks.One<ApiKey> reload = Sinks.one();
		AtomicInteger loads = new AtomicInteger();
		TieredApiKeyLookup refreshing = refreshingAhead((h) -> Mono.defer(() -> {
			int load = loads.incrementAndGet();
			return (load == 2) ? reload.asMono() : Mono.just(row);
		}));
		StepVerifier.create(refreshing.findByHash(hash)).expectNext(row).verifyComplete();
		this.clock.advance(Duration.ofSeconds(56));
		StepVerifier.create(refreshing.findByHash(hash)).expectNext(row).verifyComplete();
		refreshing.evict(hash);
		reload.tryEmitValue(row);
		assertThat(refreshing.localSize()).as("the refresh overtaken by the eviction is not kept").isZero();
		StepVerifier.create(refreshing.findByHash(hash)).expectNext(row).verifyComplete();
		assertThat(loads).hasValue(3);
	}

	@Test
	void refreshAheadIsAtMostHalfTheTtl() {
		CachePolicy policy = new CachePolicy(Duration.ofSeconds(4), Duration.ofSeconds(10), Duration.ofSeconds(60),
				Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofSeconds(5));
		assertThat(policy.refreshAhead()).isEqualTo(Duration.ofSeconds(2));
		assertThat(this.policy.refreshAhead()).as("none unless asked for").isZero();
		assertThat(new CachePolicy(Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(60),
				Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(1), null)
			.refreshAhead()).as("an empty setting").isZero();
	}

}
