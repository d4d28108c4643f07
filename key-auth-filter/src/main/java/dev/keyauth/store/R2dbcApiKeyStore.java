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
			+ "created_at, expires_at, revoked_at, last_used_at";

	private static final String FIND_BY_HASH = "SELECT " + COLUMNS + " FROM " + TABLE + " WHERE key_hash = :hash";

	private static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM " + TABLE + " WHERE id = :id";

	private static final String FIND_HASH_BY_ID = "SELECT key_hash FROM " + TABLE + " WHERE id = :id";

	private static final String FIND_PAGE = "SELECT " + COLUMNS + " FROM " + TABLE
			+ " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset";

	private static final String FIND_PAGE_FOR_CONSUMER = "SELECT " + COLUMNS + " FROM " + TABLE
			+ " WHERE consumer_id = :consumerId ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset";

	private static final String INSERT = "INSERT INTO " + TABLE
			+ " (id, key_hash, key_start, consumer_id, name, scopes, metadata, created_at, expires_at)"
			+ " VALUES (:id, :hash, :keyStart, :consumerId, :name, :scopes, CAST(:metadata AS jsonb), :createdAt, :expiresAt)";

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

	private static <T> GenericExecuteSpec bindNullable(GenericExecuteSpec spec, String name, @Nullable T value,
			Class<T> type) {
		return (value != null) ? spec.bind(name, value) : spec.bindNull(name, type);
	}

	private ApiKey map(Row row, RowMetadata metadata) {
		String[] scopes = row.get("scopes", String[].class);
		String metadataJson = row.get("metadata", String.class);
		return new ApiKey(row.get("id", UUID.class), row.get("key_start", String.class),
				row.get("consumer_id", String.class), row.get("name", String.class),
				(scopes != null) ? Arrays.asList(scopes) : List.of(),
				(metadataJson != null) ? this.json.readValue(metadataJson, JSON_OBJECT) : Map.of(),
				row.get("created_at", Instant.class), row.get("expires_at", Instant.class),
				row.get("revoked_at", Instant.class), row.get("last_used_at", Instant.class));
	}

}
