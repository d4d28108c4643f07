package dev.keyauth.admin;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyChangeListener;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.NewApiKey;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Key management: issues keys (the raw key exists only in the returned {@link IssuedApiKey}),
 * lists, finds and revokes them.
 */
public class ApiKeyAdminService {

	private final ApiKeyStore store;

	private final ApiKeyGenerator generator;

	private final Clock clock;

	private final ApiKeyChangeListener changes;

	private final Duration timeout;

	/**
	 * @param timeout bound on each store call, so an unreachable store fails an admin call
	 * instead of hanging it
	 */
	public ApiKeyAdminService(ApiKeyStore store, ApiKeyGenerator generator, Clock clock, ApiKeyChangeListener changes,
			Duration timeout) {
		this.store = store;
		this.generator = generator;
		this.clock = clock;
		this.changes = changes;
		this.timeout = timeout;
	}

	Clock clock() {
		return this.clock;
	}

	/** PostgreSQL keeps microseconds: truncate so the creation response matches every later read. */
	private Instant now() {
		return this.clock.instant().truncatedTo(ChronoUnit.MICROS);
	}

	/** Generates, hashes and stores a key; completes once the row is committed. */
	public Mono<IssuedApiKey> create(CreateApiKeyRequest request) {
		return Mono.defer(() -> {
			String key = this.generator.generateKey();
			NewApiKey row = new NewApiKey(this.generator.generateId(), KeyHash.sha256(key),
					this.generator.format().visibleStart(key), request.consumerId(), request.name(), request.scopes(),
					request.metadata(), now(), request.expiresAt());
			// A "not found" for this hash may be cached somewhere (someone presented the key before
			// it existed): drop it everywhere before handing the key out.
			return this.store.create(row)
				.timeout(this.timeout)
				.flatMap((stored) -> this.changes.keyChanged(row.hash()).thenReturn(new IssuedApiKey(key, stored)));
		});
	}

	public Mono<ApiKey> find(UUID id) {
		return this.store.findById(id).timeout(this.timeout);
	}

	public Flux<ApiKey> list(@Nullable String consumerId, long offset, int limit) {
		return this.store.find(consumerId, offset, limit).timeout(this.timeout);
	}

	/**
	 * Revokes the key (idempotently) and evicts it from every cache; completes empty when there
	 * is no such key.
	 */
	public Mono<ApiKey> revoke(UUID id) {
		return Mono.defer(() -> this.store.revoke(id, now()))
			.timeout(this.timeout)
			.flatMap((revoked) -> this.store.findHashById(id)
				.timeout(this.timeout)
				.flatMap(this.changes::keyChanged)
				.thenReturn(revoked));
	}

	/**
	 * A key just created: the only object that ever holds the raw key, and only until it is
	 * written to the response.
	 */
	public record IssuedApiKey(String key, ApiKey apiKey) {

		@Override
		public String toString() {
			return "IssuedApiKey[id=" + this.apiKey.id() + ", keyStart=" + this.apiKey.keyStart() + "]";
		}

	}

}
