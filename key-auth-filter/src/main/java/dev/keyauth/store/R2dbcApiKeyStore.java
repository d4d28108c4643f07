package dev.keyauth.store;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;

import dev.keyauth.key.KeyHash;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;
import org.springframework.transaction.reactive.TransactionalOperator;

/**
 * {@link ApiKeyStore} through R2DBC: on PostgreSQL, non-blocking from socket to row; on the
 * embedded H2 store (single instance, trial use), on a bounded elastic thread.
 * <p>
 * Failure mode: when PostgreSQL is down or slow, every method signals an error (the driver's, or
 * the caller's timeout); nothing here retries or falls back, so callers can tell "unknown key"
 * (empty) from "could not check" (error). A call the caller abandons (its timeout) leaves its
 * connection closed, not pooled again, when the client's connection factory is wrapped by
 * {@link AbandonedConnections#closing} (the auto-configured store's is): a connection that did not
 * answer once is not handed out again.
 */
public class R2dbcApiKeyStore implements ApiKeyStore {

	static final String TABLE = "keyauth_api_keys";

	private static final String COLUMNS = "id, key_start, consumer_id, name, scopes, %s, created_at, expires_at,"
			+ " revoked_at, last_used_at, disabled_at, rate_limit_rps, rate_limit_burst, rotated_from, request_count";

	private static final String FIND_BY_HASH = "SELECT %s FROM " + TABLE + " WHERE key_hash = :hash";

	private static final String FIND_BY_ID = "SELECT %s FROM " + TABLE + " WHERE id = :id";

	private static final String FIND_HASH_BY_ID = "SELECT key_hash FROM " + TABLE + " WHERE id = :id";

	private static final String FIND_PAGE = "SELECT %s FROM " + TABLE
			+ " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset";

	private static final String FIND_PAGE_FOR_CONSUMER = "SELECT %s FROM " + TABLE
			+ " WHERE consumer_id = :consumerId ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset";

	private static final String INSERT = "INSERT INTO " + TABLE
			+ " (id, key_hash, key_start, consumer_id, name, scopes, metadata, created_at, expires_at, rate_limit_rps,"
			+ " rate_limit_burst, rotated_from) VALUES (:id, :hash, :keyStart, :consumerId, :name, :scopes,"
			+ " %s, :createdAt, :expiresAt, :rps, :burst, :rotatedFrom)";

	private static final String UPDATE = "UPDATE " + TABLE + " SET name = :name, scopes = :scopes,"
			+ " metadata = %s, expires_at = :expiresAt, rate_limit_rps = :rps,"
			+ " rate_limit_burst = :burst, updated_at = :at WHERE id = :id AND revoked_at IS NULL";

	private static final String SET_DISABLED = "UPDATE " + TABLE
			+ " SET disabled_at = :disabledAt, updated_at = :at WHERE id = :id AND revoked_at IS NULL";

	private static final String EXPIRE_UNREVOKED_BY = "UPDATE " + TABLE
			+ " SET expires_at = LEAST(COALESCE(expires_at, :expiresAt), :expiresAt), updated_at = :at"
			+ " WHERE id = :id AND revoked_at IS NULL";

	private static final String REVOKE_ALL_RETURNING = "UPDATE " + TABLE
			+ " SET revoked_at = :at WHERE consumer_id = :consumerId AND revoked_at IS NULL RETURNING key_hash";

	private static final String UNREVOKED_HASHES_OF_CONSUMER = "SELECT key_hash FROM " + TABLE
			+ " WHERE consumer_id = :consumerId AND revoked_at IS NULL";

	private static final String REVOKE_BY_HASH = "UPDATE " + TABLE
			+ " SET revoked_at = :at WHERE key_hash = :hash AND revoked_at IS NULL";

	// One statement per flush, whatever the number of keys.
	private static final String RECORD_USAGE_BATCH = "UPDATE " + TABLE + " AS k SET request_count = k.request_count + u.n,"
			+ " last_used_at = GREATEST(k.last_used_at, u.t)"
			+ " FROM unnest(CAST(:ids AS uuid[]), CAST(:counts AS bigint[]), CAST(:times AS timestamptz[])) AS u(id, n, t)"
			+ " WHERE k.id = u.id";

	private static final String RECORD_USAGE_ONE = "UPDATE " + TABLE + " SET request_count = request_count + :n,"
			+ " last_used_at = GREATEST(COALESCE(last_used_at, :t), :t) WHERE id = :id";

	// COALESCE keeps the first revocation time, which makes revoking idempotent.
	private static final String REVOKE = "UPDATE " + TABLE + " SET revoked_at = COALESCE(revoked_at, :at) WHERE id = :id";

	// Read once per instance start-up; no index, so a scan of the table (160 ms for a
	// million keys), which is cheaper than keeping three more indexes up to date on every write.
	private static final String CHANGED_SINCE = "SELECT key_hash, created_at, updated_at, revoked_at FROM " + TABLE
			+ " WHERE created_at > :since OR updated_at > :since OR revoked_at > :since LIMIT :limit";

	private static final String FIND_SECRET = "SELECT secret FROM keyauth_cache_secret WHERE id = 1";

	private static final String INSERT_SECRET = "INSERT INTO keyauth_cache_secret (id, secret) VALUES (1, :secret)";

	private static final TypeReference<List<String>> JSON_STRINGS = new TypeReference<>() {
	};

	private static final TypeReference<Map<String, Object>> JSON_OBJECT = new TypeReference<>() {
	};

	private final DatabaseClient client;

	private final JsonMapper json;

	private final Dialect dialect;

	private final String findByHash;

	private final String findById;

	private final String findPage;

	private final String findPageForConsumer;

	private final String insert;

	private final String update;

	private final BiFunction<Row, RowMetadata, ApiKey> mapper = this::map;

	private final TransactionalOperator transactions;

	public R2dbcApiKeyStore(DatabaseClient client, JsonMapper json) {
		this(client, json, Dialect.POSTGRESQL);
	}

	public R2dbcApiKeyStore(DatabaseClient client, JsonMapper json, Dialect dialect) {
		this.client = client;
		this.json = json;
		this.dialect = dialect;
		String columns = COLUMNS.formatted(dialect.metadataColumn);
		this.findByHash = FIND_BY_HASH.formatted(columns);
		this.findById = FIND_BY_ID.formatted(columns);
		this.findPage = FIND_PAGE.formatted(columns);
		this.findPageForConsumer = FIND_PAGE_FOR_CONSUMER.formatted(columns);
		this.insert = INSERT.formatted(dialect.jsonParameter);
		this.update = UPDATE.formatted(dialect.jsonParameter);
		// Statements through the client join a transaction this manager opened on the same
		// connection factory; only a rotation needs one.
		this.transactions = TransactionalOperator.create(new R2dbcTransactionManager(client.getConnectionFactory()));
	}

	/**
	 * The SQL a database needs. PostgreSQL keeps scopes as {@code text[]} and metadata as
	 * {@code jsonb}; the embedded H2 store keeps both as JSON text.
	 */
	public enum Dialect {

		POSTGRESQL("CAST(metadata AS text) AS metadata", "CAST(:metadata AS jsonb)", false),

		/**
		 * H2 runs inside the JVM: r2dbc-h2 executes its (file) I/O on the subscribing thread, so
		 * every statement is moved off the event loop to the bounded elastic scheduler.
		 */
		H2("metadata", ":metadata", true);

		final String metadataColumn;

		final String jsonParameter;

		final boolean blocking;

		Dialect(String metadataColumn, String jsonParameter, boolean blocking) {
			this.metadataColumn = metadataColumn;
			this.jsonParameter = jsonParameter;
			this.blocking = blocking;
		}

		/** The dialect for a connection factory's database product name. */
		public static Dialect of(String databaseProductName) {
			if (databaseProductName.toLowerCase(java.util.Locale.ROOT).contains("h2")) {
				return H2;
			}
			if (databaseProductName.toLowerCase(java.util.Locale.ROOT).contains("postgres")) {
				return POSTGRESQL;
			}
			throw new IllegalStateException("API keys can be stored in PostgreSQL or H2, not " + databaseProductName);
		}

	}

	/**
	 * Every call goes through here. Over the network, guarded, so that a connection whose call
	 * is abandoned is not pooled again (with a client over {@link AbandonedConnections#closing}).
	 * A blocking (embedded) database instead runs off the event loop; its connections cannot go
	 * dead the way a network's can, and closing one does file I/O on whatever thread cancelled.
	 */
	private <T> Mono<T> run(Mono<T> statement) {
		return this.dialect.blocking ? statement.subscribeOn(Schedulers.boundedElastic())
				: AbandonedConnections.guard(statement);
	}

	private <T> Flux<T> run(Flux<T> statement) {
		return this.dialect.blocking ? statement.subscribeOn(Schedulers.boundedElastic())
				: AbandonedConnections.guard(statement);
	}

	private GenericExecuteSpec bindScopes(GenericExecuteSpec spec, List<String> scopes) {
		return (this.dialect == Dialect.H2) ? spec.bind("scopes", this.json.writeValueAsString(scopes))
				: spec.bind("scopes", scopes.toArray(String[]::new));
	}

	private List<String> readScopes(Row row) {
		if (this.dialect == Dialect.H2) {
			String text = row.get("scopes", String.class);
			return (text != null) ? this.json.readValue(text, JSON_STRINGS) : List.of();
		}
		String[] scopes = row.get("scopes", String[].class);
		return (scopes != null) ? Arrays.asList(scopes) : List.of();
	}

	@Override
	public Mono<ApiKey> findByHash(KeyHash hash) {
		return run(this.client.sql(this.findByHash).bind("hash", hash.toBytes()).map(this.mapper).one());
	}

	@Override
	public Mono<ApiKey> findById(UUID id) {
		return run(this.client.sql(this.findById).bind("id", id).map(this.mapper).one());
	}

	@Override
	public Mono<KeyHash> findHashById(UUID id) {
		return run(this.client.sql(FIND_HASH_BY_ID)
			.bind("id", id)
			.map((row, metadata) -> KeyHash.fromBytes(bytes(row.get("key_hash"))))
			.one());
	}

	private static byte[] bytes(Object value) {
		if (value instanceof java.nio.ByteBuffer buffer) {
			byte[] bytes = new byte[buffer.remaining()];
			buffer.duplicate().get(bytes);
			return bytes;
		}
		return (byte[]) value;
	}

	@Override
	public Flux<ApiKey> find(@Nullable String consumerId, long offset, int limit) {
		GenericExecuteSpec spec = (consumerId != null)
				? this.client.sql(this.findPageForConsumer).bind("consumerId", consumerId)
				: this.client.sql(this.findPage);
		return run(spec.bind("limit", limit).bind("offset", offset).map(this.mapper).all());
	}

	@Override
	public Mono<ApiKey> create(NewApiKey key) {
		GenericExecuteSpec spec = this.client.sql(this.insert)
			.bind("id", key.id())
			.bind("hash", key.hash().toBytes())
			.bind("keyStart", key.keyStart())
			.bind("consumerId", key.consumerId())
			.bind("metadata", this.json.writeValueAsString(key.metadata()))
			.bind("createdAt", key.createdAt());
		spec = bindNullable(spec, "name", key.name(), String.class);
		spec = bindNullable(spec, "expiresAt", key.expiresAt(), Instant.class);
		spec = bindRateLimit(spec, key.rateLimit());
		spec = bindNullable(spec, "rotatedFrom", key.rotatedFrom(), UUID.class);
		spec = bindScopes(spec, key.scopes());
		// Auto-commit (outside a rotation's transaction): the statement has committed when the
		// update count arrives.
		return run(spec.fetch()
			.rowsUpdated()
			.onErrorMap(DataIntegrityViolationException.class, DuplicateKeyHashException::new)
			.thenReturn(key.toApiKey()));
	}

	@Override
	public Mono<ApiKey> revoke(UUID id, Instant at) {
		return run(this.client.sql(REVOKE).bind("id", id).bind("at", at).fetch().rowsUpdated()).then(findById(id));
	}

	@Override
	public Mono<ApiKey> update(ApiKey key, Instant at) {
		GenericExecuteSpec spec = this.client.sql(this.update)
			.bind("id", key.id())
			.bind("metadata", this.json.writeValueAsString(key.metadata()))
			.bind("at", at);
		spec = bindScopes(spec, key.scopes());
		spec = bindNullable(spec, "name", key.name(), String.class);
		spec = bindNullable(spec, "expiresAt", key.expiresAt(), Instant.class);
		spec = bindRateLimit(spec, key.rateLimit());
		return run(spec.fetch().rowsUpdated()).filter((rows) -> rows > 0).flatMap((rows) -> findById(key.id()));
	}

	@Override
	public Mono<ApiKey> setDisabled(UUID id, @Nullable Instant disabledAt, Instant at) {
		GenericExecuteSpec spec = this.client.sql(SET_DISABLED).bind("id", id).bind("at", at);
		spec = bindNullable(spec, "disabledAt", disabledAt, Instant.class);
		return run(spec.fetch().rowsUpdated()).filter((rows) -> rows > 0).flatMap((rows) -> findById(id));
	}

	@Override
	public Mono<ApiKeyRotation> rotate(UUID previousId, Instant expiresBy, NewApiKey successor, Instant at) {
		// The previous key's row first: the update locks it, so a revocation waits for the
		// rotation (or the rotation for the revocation, and then finds nothing to rotate).
		Mono<ApiKeyRotation> both = this.client.sql(EXPIRE_UNREVOKED_BY)
			.bind("id", previousId)
			.bind("expiresAt", expiresBy)
			.bind("at", at)
			.fetch()
			.rowsUpdated()
			.filter((rows) -> rows > 0)
			.flatMap((rows) -> create(successor))
			.zipWhen((created) -> findById(previousId), ApiKeyRotation::new);
		return run(this.transactions.transactional(both));
	}

	@Override
	public Flux<KeyHash> revokeAll(String consumerId, Instant at) {
		if (this.dialect == Dialect.POSTGRESQL) {
			return run(this.client.sql(REVOKE_ALL_RETURNING)
				.bind("consumerId", consumerId)
				.bind("at", at)
				.map((row, metadata) -> KeyHash.fromBytes(bytes(row.get("key_hash"))))
				.all());
		}
		// No RETURNING: find the hashes, then revoke each (a key revoked meanwhile is skipped).
		return run(this.client.sql(UNREVOKED_HASHES_OF_CONSUMER)
			.bind("consumerId", consumerId)
			.map((row, metadata) -> KeyHash.fromBytes(bytes(row.get("key_hash"))))
			.all()
			.concatMap((hash) -> this.client.sql(REVOKE_BY_HASH)
				.bind("hash", hash.toBytes())
				.bind("at", at)
				.fetch()
				.rowsUpdated()
				.filter((rows) -> rows > 0)
				.map((rows) -> hash)));
	}

	@Override
	public Flux<KeyChange> changedSince(Instant since, int limit) {
		return run(this.client.sql(CHANGED_SINCE)
			.bind("since", since)
			.bind("limit", limit)
			.map((row, metadata) -> new KeyChange(KeyHash.fromBytes(bytes(row.get("key_hash"))),
					latest(row.get("created_at", Instant.class), row.get("updated_at", Instant.class),
							row.get("revoked_at", Instant.class))))
			.all());
	}

	private static Instant latest(Instant created, @Nullable Instant updated, @Nullable Instant revoked) {
		Instant latest = created;
		if (updated != null && updated.isAfter(latest)) {
			latest = updated;
		}
		return (revoked != null && revoked.isAfter(latest)) ? revoked : latest;
	}

	@Override
	public Mono<String> sharedSecret(String candidate) {
		Mono<String> stored = this.client.sql(FIND_SECRET).map((row) -> row.get("secret", String.class)).one();
		// Instances starting together may all find none: one insert wins, the others read it.
		Mono<String> inserted = this.client.sql(INSERT_SECRET)
			.bind("secret", candidate)
			.fetch()
			.rowsUpdated()
			.thenReturn(candidate)
			.onErrorResume(DataIntegrityViolationException.class, (ex) -> stored);
		return run(stored.switchIfEmpty(inserted));
	}

	@Override
	public Mono<Void> recordUsage(java.util.Collection<KeyUsage> usage) {
		if (usage.isEmpty()) {
			return Mono.empty();
		}
		if (this.dialect == Dialect.H2) {
			return run(Flux.fromIterable(usage)
				.concatMap((one) -> this.client.sql(RECORD_USAGE_ONE)
					.bind("id", one.id())
					.bind("n", one.count())
					.bind("t", one.lastUsedAt())
					.fetch()
					.rowsUpdated())
				.then());
		}
		return run(this.client.sql(RECORD_USAGE_BATCH)
			.bind("ids", usage.stream().map(KeyUsage::id).toArray(UUID[]::new))
			.bind("counts", usage.stream().map(KeyUsage::count).toArray(Long[]::new))
			.bind("times", usage.stream().map(KeyUsage::lastUsedAt).toArray(Instant[]::new))
			.fetch()
			.rowsUpdated()
			.then());
	}

	private static GenericExecuteSpec bindRateLimit(GenericExecuteSpec spec, @Nullable RateLimit limit) {
		spec = bindNullable(spec, "rps", (limit != null) ? limit.requestsPerSecond() : null, Integer.class);
		return bindNullable(spec, "burst", (limit != null) ? limit.burst() : null, Integer.class);
	}

	private static <T> GenericExecuteSpec bindNullable(GenericExecuteSpec spec, String name, @Nullable T value,
			Class<T> type) {
		return (value != null) ? spec.bind(name, value) : spec.bindNull(name, type);
	}

	private ApiKey map(Row row, RowMetadata metadata) {
		String metadataJson = row.get("metadata", String.class);
		Integer rps = row.get("rate_limit_rps", Integer.class);
		Integer burst = row.get("rate_limit_burst", Integer.class);
		Long requests = row.get("request_count", Long.class);
		return new ApiKey(row.get("id", UUID.class), row.get("key_start", String.class),
				row.get("consumer_id", String.class), row.get("name", String.class),
				readScopes(row),
				(metadataJson != null) ? this.json.readValue(metadataJson, JSON_OBJECT) : Map.of(),
				row.get("created_at", Instant.class), row.get("expires_at", Instant.class),
				row.get("revoked_at", Instant.class), row.get("last_used_at", Instant.class),
				row.get("disabled_at", Instant.class),
				(rps != null && burst != null) ? new RateLimit(rps, burst) : null, row.get("rotated_from", UUID.class),
				(requests != null) ? requests : 0);
	}

}
