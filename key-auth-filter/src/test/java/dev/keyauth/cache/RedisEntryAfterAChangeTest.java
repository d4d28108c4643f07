package dev.keyauth.cache;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.KeyChange;
import dev.keyauth.test.MutableClock;
import dev.keyauth.test.TestRedis;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mockito.Mockito;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

/**
 * A Redis entry read from the store before a change to its key, and found in Redis after the
 * change (written back on purpose, or by a query that was slow to come back), is not used by an
 * instance that has heard of the change: it asks the store. Against the real Redis, with the
 * store replaced by a value the test changes, and time by a hand-moved clock.
 */
class RedisEntryAfterAChangeTest {

	private static final Instant T0 = Instant.parse("2026-12-04T12:00:00Z");

	private final String prefix = "keyauth-test:after-change:" + UUID.randomUUID() + ":";

	private final MutableClock clock = new MutableClock(T0);

	private final KeyHash hash = KeyHash.sha256("a key that will be revoked " + UUID.randomUUID());

	private final ApiKey active = new ApiKey(UUID.randomUUID(), "sk_live_abcd", "acme", null, List.of(), Map.of(), T0,
			null, null, null);

	private final ApiKey revoked = new ApiKey(this.active.id(), "sk_live_abcd", "acme", null, List.of(), Map.of(), T0,
			null, T0.plusSeconds(1), null);

	/** The row as PostgreSQL has it. */
	private final AtomicReference<ApiKey> row = new AtomicReference<>(this.active);

	private final AtomicInteger storeQueries = new AtomicInteger();

	private final ApiKeyLookup store = (h) -> Mono.fromSupplier(() -> {
		this.storeQueries.incrementAndGet();
		return this.row.get();
	});

	private LettuceConnectionFactory factory;

	private ReactiveStringRedisTemplate redis;

	private RedisKeyCache cache;

	@BeforeEach
	void connect() {
		this.factory = TestRedis.connectionFactory();
		this.redis = new ReactiveStringRedisTemplate(this.factory);
		byte[] secret = new byte[32];
		Arrays.fill(secret, (byte) 7);
		this.cache = new RedisKeyCache(this.redis, new JsonMapper(), this.prefix, Duration.ofSeconds(1),
				CircuitBreaker.ofDefaults("after-change-test"), secret);
	}

	@AfterEach
	void disconnect() {
		this.redis.keys(this.prefix + "*").flatMap(this.redis::delete).blockLast(Duration.ofSeconds(5));
		this.factory.destroy();
	}

	/** One gateway instance: its own in-process tier, the shared Redis, the shared store. */
	private TieredApiKeyLookup instance(ApiKeyLookup store) {
		return new TieredApiKeyLookup(store, 1000, this.cache,
				new CachePolicy(Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(60),
						Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(1)),
				this.clock, this.clock, Duration.ofSeconds(1), CircuitBreaker.ofDefaults("after-change-test"));
	}

	private String redisEntry() {
		return this.redis.opsForValue().get(this.cache.redisKey(this.hash)).block(Duration.ofSeconds(5));
	}

	private String awaitRedisEntry() throws InterruptedException {
		// The loading instance writes to Redis without waiting for it.
		for (int i = 0; i < 200 && redisEntry() == null; i++) {
			Thread.sleep(10);
		}
		String entry = redisEntry();
		assertThat(entry).as("written to Redis by the instance that read the store").isNotNull();
		return entry;
	}

	private void writeBack(String entry) {
		this.redis.opsForValue().set(this.cache.redisKey(this.hash), entry, Duration.ofMinutes(5))
			.block(Duration.ofSeconds(5));
	}

	private ApiKey lookUp(TieredApiKeyLookup instance) {
		return instance.findByHash(this.hash).block(Duration.ofSeconds(5));
	}

	@Test
	void aGenuineEntryKeptAndWrittenBackAfterARevocationIsNotUsedByAnInstanceThatHeardOfIt()
			throws InterruptedException {
		assertThat(lookUp(instance(this.store)).revokedAt()).isNull();
		String kept = awaitRedisEntry();

		// Revoked a second later: committed, deleted from Redis, announced; instance B hears of it.
		this.clock.advance(Duration.ofSeconds(1));
		this.row.set(this.revoked);
		this.cache.delete(this.hash).block(Duration.ofSeconds(5));
		TieredApiKeyLookup heard = instance(this.store);
		heard.evict(this.hash);

		// Someone with access to Redis writes the kept entry back; it still verifies, and it is
		// well within the age any Redis entry may have.
		this.clock.advance(Duration.ofSeconds(10));
		writeBack(kept);
		int before = this.storeQueries.get();
		assertThat(lookUp(heard).revokedAt()).as("the store's answer, not the kept entry's").isNotNull();
		assertThat(this.storeQueries.get() - before).isEqualTo(1);

		// An instance started since never heard of the change: it reads the changes made within
		// the age an entry may have from the store at start-up, and holds the entry against those.
		writeBack(kept);
		TieredApiKeyLookup startedSince = instance(this.store);
		assertThat(startedSince.changesWorthKnowing()).isGreaterThan(Duration.ofSeconds(11));
		startedSince.heardOfEarlierChange(this.hash, T0.plusSeconds(1));
		before = this.storeQueries.get();
		assertThat(lookUp(startedSince).revokedAt()).as("started after the revocation").isNotNull();
		assertThat(this.storeQueries.get() - before).isEqualTo(1);
		// Without that (a store that cannot tell), only the age rule bounds it.
		writeBack(kept);
		assertThat(lookUp(instance(this.store)).revokedAt()).as("started after, told nothing").isNull();
	}

	@Test
	void anInstanceStartedWhileTheStoreCouldNotReportChangesLearnsThemOnceItCan() throws InterruptedException {
		assertThat(lookUp(instance(this.store)).revokedAt()).isNull();
		String kept = awaitRedisEntry();
		this.clock.advance(Duration.ofSeconds(1));
		this.row.set(this.revoked);
		this.cache.delete(this.hash).block(Duration.ofSeconds(5));
		this.clock.advance(Duration.ofSeconds(10));
		writeBack(kept);

		// The instance starts while the store is unreachable; it answers on the third attempt.
		AtomicInteger attempts = new AtomicInteger();
		// Completes after its element has been handed on, that is, after the lookup was told.
		CountDownLatch told = new CountDownLatch(1);
		ApiKeyStore changes = mock(ApiKeyStore.class, Mockito.CALLS_REAL_METHODS);
		Mockito.doAnswer((call) -> Flux.defer(() -> (attempts.incrementAndGet() < 3)
				? Flux.error(new IllegalStateException("Connection refused"))
				: Flux.just(new KeyChange(this.hash, T0.plusSeconds(1))).doOnComplete(told::countDown)))
			.when(changes)
			.changedSince(Mockito.any(), Mockito.anyInt());
		TieredApiKeyLookup startedSince = instance(this.store);
		try (EarlierChangesReader reader = new EarlierChangesReader(changes, startedSince, this.clock,
				Duration.ofSeconds(1), Duration.ofMillis(10))) {
			reader.read();
			assertThat(told.await(10, TimeUnit.SECONDS)).as("tried again in the background until it could")
				.isTrue();
			assertThat(attempts.get()).isEqualTo(3);
		}
		int before = this.storeQueries.get();
		assertThat(lookUp(startedSince).revokedAt()).as("the store's answer, not the kept entry's").isNotNull();
		assertThat(this.storeQueries.get() - before).isEqualTo(1);
	}

	@Test
	void anAttemptTheStoreNeverAnswersEndsAtTheStoreTimeoutAndTheNextOneIsMade() throws InterruptedException {
		AtomicInteger attempts = new AtomicInteger();
		CountDownLatch told = new CountDownLatch(1);
		ApiKeyStore silent = mock(ApiKeyStore.class, Mockito.CALLS_REAL_METHODS);
		// Neither the start-up read nor the first background one is ever answered.
		Mockito.doAnswer((call) -> Flux.defer(() -> (attempts.incrementAndGet() < 3) ? Flux.<KeyChange>never()
				: Flux.just(new KeyChange(this.hash, T0.plusSeconds(1))).doOnComplete(told::countDown)))
			.when(silent)
			.changedSince(Mockito.any(), Mockito.anyInt());
		try (EarlierChangesReader reader = new EarlierChangesReader(silent, instance(this.store), this.clock,
				Duration.ofMillis(200), Duration.ofMillis(10))) {
			reader.read();
			assertThat(told.await(10, TimeUnit.SECONDS)).as("the unanswered attempts ended; the third was made")
				.isTrue();
		}
		assertThat(attempts.get()).isEqualTo(3);
	}

	@Test
	void closingTheReaderStopsItsBackgroundAttempts() throws InterruptedException {
		AtomicInteger attempts = new AtomicInteger();
		ApiKeyStore unreachable = mock(ApiKeyStore.class, Mockito.CALLS_REAL_METHODS);
		Mockito.doAnswer((call) -> Flux.defer(() -> {
			attempts.incrementAndGet();
			return Flux.error(new IllegalStateException("Connection refused"));
		})).when(unreachable).changedSince(Mockito.any(), Mockito.anyInt());
		EarlierChangesReader reader = new EarlierChangesReader(unreachable, instance(this.store), this.clock,
				Duration.ofSeconds(1), Duration.ofMillis(10));
		reader.read();
		for (int i = 0; i < 500 && attempts.get() < 3; i++) {
			Thread.sleep(10);
		}
		assertThat(attempts.get()).as("still trying").isGreaterThanOrEqualTo(3);
		reader.close();
		Thread.sleep(100);
		int afterClose = attempts.get();
		Thread.sleep(500);
		assertThat(attempts.get()).as("no attempt after close").isEqualTo(afterClose);
	}

	@Test
	void aStoreThatCannotReportChangesIsAskedOnce() {
		AtomicInteger attempts = new AtomicInteger();
		ApiKeyStore cannot = mock(ApiKeyStore.class, Mockito.CALLS_REAL_METHODS);
		Mockito.doAnswer((call) -> {
			attempts.incrementAndGet();
			return Flux.error(new UnsupportedOperationException("This key store does not report recent changes"));
		}).when(cannot).changedSince(Mockito.any(), Mockito.anyInt());
		try (EarlierChangesReader reader = new EarlierChangesReader(cannot, instance(this.store), this.clock,
				Duration.ofSeconds(1), Duration.ofMillis(10))) {
			reader.read();
		}
		assertThat(attempts.get()).isEqualTo(1);
	}

	@Test
	void anEarlierChangeDoesNotOverrideALaterOneHeardOfAndEntriesReadAfterItAreUsed() throws InterruptedException {
		TieredApiKeyLookup started = instance(this.store);
		// Another instance reads the store at T0 + 3 s and shares its answer through Redis.
		this.clock.advance(Duration.ofSeconds(3));
		lookUp(instance(this.store));
		awaitRedisEntry();
		// At T0 + 5 s this instance hears of a change (a message), and only then reads, from the
		// store, of an earlier one at T0 + 1 s: the later one still rules, and the entry read
		// before it is passed over.
		this.clock.advance(Duration.ofSeconds(2));
		started.evict(this.hash);
		started.heardOfEarlierChange(this.hash, T0.plusSeconds(1));
		this.clock.advance(Duration.ofSeconds(1));
		int before = this.storeQueries.get();
		lookUp(started);
		assertThat(this.storeQueries.get() - before).as("read before the change heard of").isEqualTo(1);

		// An instance told only of the change at T0 + 1 s uses the entries read after it.
		TieredApiKeyLookup told = instance(this.store);
		told.heardOfEarlierChange(this.hash, T0.plusSeconds(1));
		before = this.storeQueries.get();
		lookUp(told);
		assertThat(this.storeQueries.get() - before).as("a Redis hit").isZero();
	}

	@Test
	void anAnswerIsDatedByWhenItsQueryWasSentSoASlowQueryCannotOutdateAChange() throws InterruptedException {
		TieredApiKeyLookup heard = instance(this.store);
		// Instance A's query reads the row just before the change and takes two seconds to come
		// back; the change is committed, deleted from Redis and heard of by B in between. A had
		// not heard of it yet when the answer came, so it writes the old row to Redis.
		ApiKeyLookup slowStore = (h) -> Mono.fromSupplier(() -> {
			ApiKey before = this.row.get();
			this.clock.advance(Duration.ofSeconds(1));
			this.row.set(this.revoked);
			heard.evict(this.hash);
			this.clock.advance(Duration.ofSeconds(1));
			return before;
		});
		assertThat(lookUp(instance(slowStore)).revokedAt()).isNull();
		awaitRedisEntry();

		int before = this.storeQueries.get();
		assertThat(lookUp(heard).revokedAt()).as("the store's answer, not A's late one").isNotNull();
		assertThat(this.storeQueries.get() - before).isEqualTo(1);
	}

	@Test
	void anEntryReadAfterTheChangeIsUsed() throws InterruptedException {
		TieredApiKeyLookup heard = instance(this.store);
		this.row.set(this.revoked);
		heard.evict(this.hash);
		this.clock.advance(Duration.ofMillis(1));
		// Another instance reads the store after the change and shares its answer through Redis.
		assertThat(lookUp(instance(this.store)).revokedAt()).isNotNull();
		awaitRedisEntry();

		int before = this.storeQueries.get();
		assertThat(lookUp(heard).revokedAt()).isNotNull();
		assertThat(this.storeQueries.get() - before).as("a Redis hit").isZero();
	}

}
