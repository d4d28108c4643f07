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
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;

/**
 * {@link ApiKeyStore} on PostgreSQL through R2DBC: non-blocking from socket to row.
 * <p>
 * Failure mode: when PostgreSQL is down or slow, every method signals an error (the driver's, or
 * the caller's timeout); nothing here retries or falls back, so callers can tell "unknown key"
 * (empty) from "could not check" (error).
 */
public class R2dbcApiKeyStore implements ApiKeyStore {

	static final String TABLE = "keyauth_api_keys";

	private static final String COLUMNS = "id, key_start, consumer_id, name, scopes, CAST(metadata AS text) AS metadata, "
			+ "created_at, expires_at, revoked_at, last_used_at, disabled_at, rate_limit_rps, rate_limit_burst, "
			+ "rotated_from, request_count";

	private static final String FIND_BY_HASH = "SELECT " + COLUMNS + " FROM " + TABLE + " WHERE key_hash = :hash";

	private static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM " + TABLE + " WHERE id = :id";

	private static final String FIND_HASH_BY_ID = "SELECT key_hash FROM " + TABLE + " WHERE id = :id";

	private static final String FIND_PAGE = "SELECT " + COLUMNS + " FROM " + TABLE
			+ " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset";

	private static final String FIND_PAGE_FOR_CONSUMER = "SELECT " + COLUMNS + " FROM " + TABLE
			+ " WHERE consumer_id = :consumerId ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset";

	private static final String INSERT = "INSERT INTO " + TABLE
			+ " (id, key_hash, key_start, consumer_id, name, scopes, metadata, created_at, expires_at, rate_limit_rps,"
			+ " rate_limit_burst, rotated_from) VALUES (:id, :hash, :keyStart, :consumerId, :name, :scopes,"
			+ " CAST(:metadata AS jsonb), :createdAt, :expiresAt, :rps, :burst, :rotatedFrom)";

	private static final String UPDATE = "UPDATE " + TABLE + " SET name = :name, scopes = :scopes,"
			+ " metadata = CAST(:metadata AS jsonb), expires_at = :expiresAt, rate_limit_rps = :rps,"
			+ " rate_limit_burst = :burst, updated_at = :at WHERE id = :id AND revoked_at IS NULL";

	private static final String SET_DISABLED = "UPDATE " + TABLE
			+ " SET disabled_at = :disabledAt, updated_at = :at WHERE id = :id AND revoked_at IS NULL";

	private static final String EXPIRE_BY = "UPDATE " + TABLE
			+ " SET expires_at = LEAST(COALESCE(expires_at, :expiresAt), :expiresAt), updated_at = :at WHERE id = :id";

	private static final String REVOKE_ALL = "UPDATE " + TABLE
			+ " SET revoked_at = :at WHERE consumer_id = :consumerId AND revoked_at IS NULL RETURNING key_hash";

	// One statement per flush, whatever the number of keys.
	private static final String RECORD_USAGE = "UPDATE " + TABLE + " AS k SET request_count = k.request_count + u.n,"
			+ " last_used_at = GREATEST(k.last_used_at, u.t)"
			+ " FROM unnest(CAST(:ids AS uuid[]), CAST(:counts AS bigint[]), CAST(:times AS timestamptz[])) AS u(id, n, t)"
			+ " WHERE k.id = u.id";

	// COALESCE keeps the first revocation time, which makes revoking idempotent.
	private static final String REVOKE = "UPDATE " + TABLE + " SET revoked_at = COALESCE(revoked_at, :at) WHERE id = :id";

	private static final TypeReference<Map<String, Object>> JSON_OBJECT = new TypeReference<>() {
	};

	private final DatabaseClient client;

	private final JsonMapper json;

	private final BiFunction<Row, RowMetadata, ApiKey> mapper = this::map;

	public R2dbcApiKeyStore(DatabaseClient client, JsonMapper json) {
		this.client = client;
		this.json = json;
	}

	@Override
	public Mono<ApiKey> findByHash(KeyHash hash) {
		return this.client.sql(FIND_BY_HASH).bind("hash", hash.toBytes()).map(this.mapper).one();
	}

	@Override
	public Mono<ApiKey> findById(UUID id) {
		return this.client.sql(FIND_BY_ID).bind("id", id).map(this.mapper).one();
	}

	@Override
	public Mono<KeyHash> findHashById(UUID id) {
		return this.client.sql(FIND_HASH_BY_ID)
			.bind("id", id)
			.map((row, metadata) -> KeyHash.fromBytes(bytes(row.get("key_hash"))))
			.one();
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
				? this.client.sql(FIND_PAGE_FOR_CONSUMER).bind("consumerId", consumerId)
				: this.client.sql(FIND_PAGE);
		return spec.bind("limit", limit).bind("offset", offset).map(this.mapper).all();
	}

	@Override
	public Mono<ApiKey> create(NewApiKey key) {
		GenericExecuteSpec spec = this.client.sql(INSERT)
			.bind("id", key.id())
			.bind("hash", key.hash().toBytes())
			.bind("keyStart", key.keyStart())
			.bind("consumerId", key.consumerId())
			.bind("scopes", key.scopes().toArray(String[]::new))
			.bind("metadata", this.json.writeValueAsString(key.metadata()))
			.bind("createdAt", key.createdAt());
		spec = bindNullable(spec, "name", key.name(), String.class);
		spec = bindNullable(spec, "expiresAt", key.expiresAt(), Instant.class);
		spec = bindRateLimit(spec, key.rateLimit());
		spec = bindNullable(spec, "rotatedFrom", key.rotatedFrom(), UUID.class);
		// Auto-commit: the statement has committed when the update count arrives.
		return spec.fetch()
			.rowsUpdated()
			.onErrorMap(DataIntegrityViolationException.class, DuplicateKeyHashException::new)
			.thenReturn(key.toApiKey());
	}

	@Override
	public Mono<ApiKey> revoke(UUID id, Instant at) {
		return this.client.sql(REVOKE).bind("id", id).bind("at", at).fetch().rowsUpdated().then(findById(id));
	}

	@Override
	public Mono<ApiKey> update(ApiKey key, Instant at) {
		GenericExecuteSpec spec = this.client.sql(UPDATE)
			.bind("id", key.id())
			.bind("scopes", key.scopes().toArray(String[]::new))
			.bind("metadata", this.json.writeValueAsString(key.metadata()))
			.bind("at", at);
		spec = bindNullable(spec, "name", key.name(), String.class);
		spec = bindNullable(spec, "expiresAt", key.expiresAt(), Instant.class);
		spec = bindRateLimit(spec, key.rateLimit());
		return spec.fetch().rowsUpdated().filter((rows) -> rows > 0).flatMap((rows) -> findById(key.id()));
	}

	@Override
	public Mono<ApiKey> setDisabled(UUID id, @Nullable Instant disabledAt, Instant at) {
		GenericExecuteSpec spec = this.client.sql(SET_DISABLED).bind("id", id).bind("at", at);
		spec = bindNullable(spec, "disabledAt", disabledAt, Instant.class);
		return spec.fetch().rowsUpdated().filter((rows) -> rows > 0).flatMap((rows) -> findById(id));
	}

	@Override
	public Mono<ApiKey> expireBy(UUID id, Instant expiresAt, Instant at) {
		return this.client.sql(EXPIRE_BY)
			.bind("id", id)
			.bind("expiresAt", expiresAt)
			.bind("at", at)
			.fetch()
			.rowsUpdated()
			.filter((rows) -> rows > 0)
			.flatMap((rows) -> findById(id));
	}

	@Override
	public Flux<KeyHash> revokeAll(String consumerId, Instant at) {
		return this.client.sql(REVOKE_ALL)
			.bind("consumerId", consumerId)
			.bind("at", at)
			.map((row, metadata) -> KeyHash.fromBytes(bytes(row.get("key_hash"))))
			.all();
	}

	@Override
	public Mono<Void> recordUsage(java.util.Collection<KeyUsage> usage) {
		if (usage.isEmpty()) {
			return Mono.empty();
		}
		return this.client.sql(RECORD_USAGE)
			.bind("ids", usage.stream().map(KeyUsage::id).toArray(UUID[]::new))
			.bind("counts", usage.stream().map(KeyUsage::count).toArray(Long[]::new))
			.bind("times", usage.stream().map(KeyUsage::lastUsedAt).toArray(Instant[]::new))
			.fetch()
			.rowsUpdated()
			.then();
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
		String[] scopes = row.get("scopes", String[].class);
		String metadataJson = row.get("metadata", String.class);
		Integer rps = row.get("rate_limit_rps", Integer.class);
		Integer burst = row.get("rate_limit_burst", Integer.class);
		Long requests = row.get("request_count", Long.class);
		return new ApiKey(row.get("id", UUID.class), row.get("key_start", String.class),
				row.get("consumer_id", String.class), row.get("name", String.class),
				(scopes != null) ? Arrays.asList(scopes) : List.of(),
				(metadataJson != null) ? this.json.readValue(metadataJson, JSON_OBJECT) : Map.of(),
				row.get("created_at", Instant.class), row.get("expires_at", Instant.class),
				row.get("revoked_at", Instant.class), row.get("last_used_at", Instant.class),
				row.get("disabled_at", Instant.class),
				(rps != null && burst != null) ? new RateLimit(rps, burst) : null, row.get("rotated_from", UUID.class),
				(requests != null) ? requests : 0);
	}

}
