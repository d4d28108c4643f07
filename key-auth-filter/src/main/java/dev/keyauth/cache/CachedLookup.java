package dev.keyauth.cache;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import dev.keyauth.store.ApiKey;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The store's answer for one key hash, as a cache keeps it: the key, or "no such key".
 * <p>
 * The key is cached whatever its state: a revoked or expired key is refused by the
 * authenticator on every request, so expiry takes effect the instant it passes, on every
 * instance, however long the entry lives.
 */
public final class CachedLookup {

	private static final AtomicIntegerFieldUpdater<CachedLookup> REFRESH_CLAIMED = AtomicIntegerFieldUpdater
		.newUpdater(CachedLookup.class, "refreshClaimed");

	private final @Nullable ApiKey key;

	private final long loadedAt;

	private final long readAt;

	private final long receivedAt;

	private final long checkAfter;

	private final long refreshAt;

	private final @Nullable Throwable failure;

	// 1 once a caller has started this answer's background refresh: one attempt per answer.
	private volatile int refreshClaimed;

	// Built once per entry so that a cache hit allocates nothing.
	private final Mono<ApiKey> mono;

	/**
	 * An answer as read from the store or from Redis, before this instance has received it
	 * ({@link #received(long, long, long, long)} gives it this instance's times).
	 * @param key the stored key, or {@code null} when no key has this hash
	 * @param loadedAt epoch millis when the answer was read from the store; it travels through
	 * Redis, so it is wall-clock time, which every instance shares
	 */
	public CachedLookup(@Nullable ApiKey key, long loadedAt) {
		this(key, loadedAt, 0, 0, 0, Long.MAX_VALUE, null);
	}

	/*
	 * readAt, receivedAt, checkAfter and refreshAt are this instance's monotonic milliseconds
	 * (MonotonicClock): a wall clock stepped back must not stretch how long an answer is trusted.
	 */
	private CachedLookup(@Nullable ApiKey key, long loadedAt, long readAt, long receivedAt, long checkAfter,
			long refreshAt, @Nullable Throwable failure) {
		this.key = key;
		this.loadedAt = loadedAt;
		this.readAt = readAt;
		this.receivedAt = receivedAt;
		this.checkAfter = checkAfter;
		this.refreshAt = refreshAt;
		this.failure = failure;
		this.mono = (failure != null) ? Mono.error(failure) : Mono.justOrEmpty(key);
	}

	/**
	 * A load that failed. Handed to every caller waiting for the load, never kept: failing a
	 * cache future instead would log a stack trace per request while the store is down.
	 */
	static CachedLookup failed(Throwable failure) {
		return new CachedLookup(null, 0, 0, 0, 0, Long.MAX_VALUE, failure);
	}

	boolean isFailure() {
		return this.failure != null;
	}

	public @Nullable ApiKey key() {
		return this.key;
	}

	public boolean found() {
		return this.key != null;
	}

	/** Epoch millis when the answer was read from the store, on the clock of the instance that read it. */
	public long loadedAt() {
		return this.loadedAt;
	}

	/** When the answer was read from the store, in this instance's monotonic millis. */
	public long readAt() {
		return this.readAt;
	}

	/** When this instance obtained the answer (from the store or from Redis), in its monotonic millis. */
	public long receivedAt() {
		return this.receivedAt;
	}

	/** After when, in this instance's monotonic millis, it asks again before using the answer. */
	public long checkAfter() {
		return this.checkAfter;
	}

	Mono<ApiKey> asMono() {
		return this.mono;
	}

	/**
	 * Whether the caller should start this answer's background refresh: from {@code refreshAt}
	 * on, and for one caller only.
	 */
	boolean claimRefresh(long now) {
		return now >= this.refreshAt && this.refreshClaimed == 0 && REFRESH_CLAIMED.compareAndSet(this, 0, 1);
	}

	/**
	 * The answer as this instance keeps it: read from the store at {@code readAt}, received at
	 * {@code receivedAt}, to be asked again after {@code checkAfter} and read again in the
	 * background from {@code refreshAt} if it is still in use then.
	 */
	CachedLookup received(long readAt, long receivedAt, long checkAfter, long refreshAt) {
		return new CachedLookup(this.key, this.loadedAt, readAt, receivedAt, checkAfter, refreshAt, this.failure);
	}

	/** The same answer, as old as it was, received again now and to be asked again after {@code checkAfter}. */
	CachedLookup receivedAgain(long receivedAt, long checkAfter) {
		return new CachedLookup(this.key, this.loadedAt, this.readAt, receivedAt, checkAfter, Long.MAX_VALUE,
				this.failure);
	}

	@Override
	public String toString() {
		if (this.failure != null) {
			return "CachedLookup[failed: " + this.failure + "]";
		}
		return "CachedLookup[" + ((this.key != null) ? "key " + this.key.id() : "not found") + ", loadedAt="
				+ this.loadedAt + "]";
	}

}
