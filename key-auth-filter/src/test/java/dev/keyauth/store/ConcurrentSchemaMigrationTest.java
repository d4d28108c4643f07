package dev.keyauth.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.keyauth.test.TestPostgres;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several gateways starting at the same moment against a database the key tables are not in yet:
 * the docker-compose stack, or a rolling deployment onto a new database. Each must come up with
 * the schema migrated exactly once.
 */
class ConcurrentSchemaMigrationTest {

	private static final int INSTANCES = 6;

	private static final int ATTEMPTS = 8;

	@Test
	void gatewaysStartingTogetherOnAFreshSchemaAllSucceedAndMigrateOnce() throws Exception {
		ExecutorService pool = Executors.newFixedThreadPool(INSTANCES);
		try {
			for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
				String schema = "keyauth_race_" + UUID.randomUUID().toString().replace("-", "");
				execute("CREATE SCHEMA " + schema);
				try {
					startTogether(pool, schema);
				}
				finally {
					execute("DROP SCHEMA " + schema + " CASCADE");
				}
			}
		}
		finally {
			pool.shutdownNow();
		}
	}

	private void startTogether(ExecutorService pool, String schema) throws Exception {
		// Flyway works in the connection's current schema, as it does in public for a gateway.
		String url = TestPostgres.jdbcUrl() + "?currentSchema=" + schema;
		CyclicBarrier start = new CyclicBarrier(INSTANCES);
		List<Future<MigrateResult>> results = new ArrayList<>();
		for (int i = 0; i < INSTANCES; i++) {
			results.add(pool.submit(() -> {
				SchemaMigration migration = new SchemaMigration(url, TestPostgres.user(), TestPostgres.password());
				start.await(10, TimeUnit.SECONDS);
				return migration.migrate();
			}));
		}
		int applied = 0;
		for (Future<MigrateResult> result : results) {
			// A failed start-up surfaces here as the ExecutionException it would have been.
			MigrateResult migrated = result.get(60, TimeUnit.SECONDS);
			assertThat(migrated.success).isTrue();
			applied += migrated.migrationsExecuted;
		}
		int versions = count("SELECT count(*) FROM " + schema + "." + SchemaMigration.HISTORY_TABLE
				+ " WHERE success AND version IS NOT NULL AND type <> 'BASELINE'");
		assertThat(applied).as("migrations run over all instances").isEqualTo(versions);
		assertThat(versions).as("versioned migrations recorded").isEqualTo(3);
		assertThat(count("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + schema
				+ "' AND table_name = 'keyauth_api_keys'")).isEqualTo(1);
	}

	private static void execute(String sql) throws SQLException {
		try (Connection connection = connect(); Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

	private static int count(String sql) throws SQLException {
		try (Connection connection = connect(); Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery(sql)) {
			rows.next();
			return rows.getInt(1);
		}
	}

	private static Connection connect() throws SQLException {
		return DriverManager.getConnection(TestPostgres.jdbcUrl(), TestPostgres.user(), TestPostgres.password());
	}

}
