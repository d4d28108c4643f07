package dev.keyauth.ratelimit;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.keyauth.store.RateLimit;
import dev.keyauth.support.CircuitBreakers;
import dev.keyauth.support.Timeouts;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Token buckets in Redis, shared by every gateway instance, run by Spring Cloud Gateway's own
 * {@code request_rate_limiter.lua} (the {@code redisRequestRateLimiterScript} bean that backs its
 * {@code RedisRateLimiter}): the same algorithm and Redis layout, with the rate and burst taken
 * from the key or route instead of the route filter's arguments.
 * <p>
 * Failure mode: if Redis fails or is slower than the timeout, the request is allowed when
 * {@code failOpen} (the default, like the gateway's own limiter: an outage of the counter store
 * must not become an outage of the API) or refused with 429 otherwise. Calls are guarded by a
 * circuit breaker: while Redis is unreachable, slow or silently cut off, a request would
 * otherwise wait out the timeout every time its key's allowance is empty (and a request that
 * waited for a failed batch request, a second time for a token of its own); once the breaker is
 * open, the decision is made at once, and Redis is probed again after a second.
 */
public class ApiKeyRateLimiter {

	private static final Log logger = LogFactory.getLog(ApiKeyRateLimiter.class);

	private final ReactiveStringRedisTemplate redis;

	private final RedisScript<List<Long>> script;

	private final String keyPrefix;

	private final Duration timeout;

	private final boolean failOpen;

	private final Runnable onRedisFailure;

	private final LocalTokenAllowances allowances;

	private final CircuitBreaker breaker;

	private final CircuitBreakerOperator<List<Long>> guarded;

	private final Map<String, Refill> refills = new ConcurrentHashMap<>();

	/**
	 * A limiter that asks Redis on every request.
	 * @see #ApiKeyRateLimiter(ReactiveStringRedisTemplate, RedisScript, String, Duration, boolean,
	 * Runnable, double)
	 */
	public ApiKeyRateLimiter(ReactiveStringRedisTemplate redis, RedisScript<List<Long>> script, String keyPrefix,
			Duration timeout, boolean failOpen, Runnable onRedisFailure) {
		this(redis, script, keyPrefix, timeout, failOpen, onRedisFailure, 0);
	}

	/**
	 * @param localShare the fraction of a limit's per-second rate an instance takes from Redis at
	 * once and spends locally (0 asks Redis on every request); see {@link LocalTokenAllowances}
	 */
	public ApiKeyRateLimiter(ReactiveStringRedisTemplate redis, RedisScript<List<Long>> script, String keyPrefix,
			Duration timeout, boolean failOpen, Runnable onRedisFailure, double localShare) {
		this(redis, script, keyPrefix, timeout, failOpen, onRedisFailure, new LocalTokenAllowances(localShare, 100_000));
	}

	/** Takes the allowances as given, so a test can step into the race between two requests. */
	ApiKeyRateLimiter(ReactiveStringRedisTemplate redis, RedisScript<List<Long>> script, String keyPrefix,
			Duration timeout, boolean failOpen, Runnable onRedisFailure, LocalTokenAllowances allowances) {
		this.redis = redis;
		// The gateway's script bean reads its Lua text from the class path lazily, on first use,
		// which would be a blocking read on an event-loop thread (and it re-checks the resource on
		// later calls). Take the same text once, here, at start-up.
		this.script = RedisScript.of(script.getScriptAsString(), listOfLong());
		this.keyPrefix = keyPrefix;
		this.timeout = timeout;
		this.failOpen = failOpen;
		this.onRedisFailure = onRedisFailure;
		this.allowances = allowances;
		this.breaker = CircuitBreakers.forCallsWithin("keyauth-ratelimit", timeout);
		this.guarded = CircuitBreakerOperator.of(this.breaker);
	}

	/** The breaker in front of Redis: open while Redis is failing, so that nothing waits for it. */
	public CircuitBreaker breaker() {
		return this.breaker;
	}

	@SuppressWarnings({ "unchecked", "rawtypes" })
	private static Class<List<Long>> listOfLong() {
		return (Class) List.class;
	}

	/** Takes one token from the bucket {@code bucket}, governed by {@code limit}. */
	public Mono<Decision> consume(String bucket, RateLimit limit) {
		Decision local = takeLocal(bucket, limit);
		if (local != null) {
			return Mono.just(local);
		}
		int batch = this.allowances.batchSize(bucket, limit);
		if (batch == 1) {
			return take(bucket, limit, 1);
		}
		// One batch request per bucket at a time. Without this, every request that finds the
		// allowance empty at the same moment would take a batch of its own, and a busy key would
		// drain its shared bucket into allowances that expire unspent.
		Refill created = new Refill();
		Refill inFlight = this.refills.computeIfAbsent(bucket, (b) -> created);
		if (inFlight != created) {
			// Read at subscription: the leader registers the request just after creating it.
			return Mono.defer(() -> inFlight.result).then(Mono.defer(() -> {
				Decision afterRefill = takeLocal(bucket, limit);
				return (afterRefill != null) ? Mono.just(afterRefill) : take(bucket, limit, 1);
			}));
		}
		// A batch may have landed and been deregistered between the local look above and the
		// registration: look again now that no other batch request can start, or this one would
		// take a second batch and leave the first to expire unspent. (The grant is recorded before
		// the deregistration, so finding no batch in flight means seeing its tokens.)
		Decision landed = takeLocal(bucket, limit);
		if (landed != null) {
			this.refills.remove(bucket, created);
			return Mono.just(landed);
		}
		Mono<Decision> refill = take(bucket, limit, batch).flatMap((decision) -> {
			if (decision.allowed() || decision.remaining() < 0) {
				return Mono.just(decision);
			}
			// A refused batch only says the bucket has fewer than a batch left; one token may
			// still be there.
			this.allowances.scarce(bucket);
			return take(bucket, limit, 1);
		}).doFinally((signal) -> this.refills.remove(bucket, created)).cache();
		created.result = refill;
		return refill;
	}

	private @Nullable Decision takeLocal(String bucket, RateLimit limit) {
		long remaining = this.allowances.tryTake(bucket);
		return (remaining >= 0) ? new Decision(true, remaining, limit) : null;
	}

	/** A batch request in flight; {@code result} is set right after the refill is registered. */
	private static final class Refill {

		volatile Mono<Decision> result = Mono.empty();

	}

	private Mono<Decision> take(String bucket, RateLimit limit, int tokens) {
		// The hash tag keeps both keys of a bucket in one Redis Cluster slot, as the script needs.
		List<String> keys = List.of(this.keyPrefix + "{" + bucket + "}.tokens",
				this.keyPrefix + "{" + bucket + "}.timestamp");
		List<String> args = List.of(Integer.toString(limit.requestsPerSecond()), Integer.toString(limit.burst()), "",
				Integer.toString(tokens));
		return Timeouts.within(this.redis.execute(this.script, keys, args).next(), this.timeout)
			.transformDeferred(this.guarded)
			.map((result) -> {
				boolean allowed = result.get(0) == 1L;
				if (allowed) {
					this.allowances.granted(bucket, tokens, result.get(1));
				}
				return new Decision(allowed, result.get(1) + (allowed ? tokens - 1 : 0), limit);
			})
			.onErrorResume((ex) -> {
				this.onRedisFailure.run();
				logger.debug("Rate limiter could not reach Redis; " + (this.failOpen ? "allowing" : "refusing"), ex);
				return Mono.just(new Decision(this.failOpen, -1, limit));
			});
	}

	/**
	 * @param allowed whether the request may proceed
	 * @param remaining tokens left, or -1 when Redis could not be asked
	 * @param limit the limit that decided
	 */
	public record Decision(boolean allowed, long remaining, RateLimit limit) {
	}

}
