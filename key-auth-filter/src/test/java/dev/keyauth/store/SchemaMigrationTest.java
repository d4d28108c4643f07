package dev.keyauth.store;

import io.r2dbc.spi.ConnectionFactoryOptions;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

class SchemaMigrationTest {

	@Test
	void derivesTheJdbcUrlFromTheR2dbcUrl() {
		assertThat(SchemaMigration.jdbcUrlOf(ConnectionFactoryOptions.parse("r2dbc:postgresql://db.internal:6543/keys")))
			.isEqualTo("jdbc:postgresql://db.internal:6543/keys");
		assertThat(SchemaMigration.jdbcUrlOf(ConnectionFactoryOptions.parse("r2dbc:pool:postgresql://u:p@db/keys?maxSize=5")))
			.isEqualTo("jdbc:postgresql://db/keys");
	}

	@Test
	void derivesTheSameH2DatabaseR2dbcH2Opens() {
		assertThat(SchemaMigration.jdbcUrlOf(ConnectionFactoryOptions.parse("r2dbc:h2:file:////var/lib/gw/keyauth")))
			.isEqualTo("jdbc:h2:file:/var/lib/gw/keyauth");
		assertThat(SchemaMigration.jdbcUrlOf(ConnectionFactoryOptions.parse("r2dbc:h2:mem:///keyauth")))
			.isEqualTo("jdbc:h2:mem:keyauth;DB_CLOSE_DELAY=-1");
	}

	@Test
	void takesUserAndPasswordFromTheR2dbcOptions() {
		SchemaMigration migration = SchemaMigration
			.forR2dbc(ConnectionFactoryOptions.parse("r2dbc:postgresql://app:secret@db:5432/keys"), null);
		assertThat(migration.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/keys");
	}

	@Test
	void anExplicitJdbcUrlWins() {
		assertThat(SchemaMigration.forR2dbc(ConnectionFactoryOptions.parse("r2dbc:postgresql://db/keys"),
				"jdbc:postgresql://primary/keys?sslmode=require").jdbcUrl())
			.isEqualTo("jdbc:postgresql://primary/keys?sslmode=require");
	}

	@Test
	void otherDatabasesAreAClearError() {
		assertThatIllegalStateException()
			.isThrownBy(() -> SchemaMigration.jdbcUrlOf(ConnectionFactoryOptions.parse("r2dbc:mysql://db/keys")))
			.withMessageContaining("mysql");
	}

	@Test
	void anUpToDateSchemaIsLoggedWithItsVersion() {
		// What Flyway returns when nothing was pending: no target version.
		MigrateResult upToDate = new MigrateResult();
		upToDate.initialSchemaVersion = "2";
		assertThat(SchemaMigration.describe(upToDate)).isEqualTo("API key schema is at version 2 (up to date)");
		MigrateResult applied = new MigrateResult();
		applied.initialSchemaVersion = "0";
		applied.targetSchemaVersion = "2";
		applied.migrationsExecuted = 2;
		assertThat(SchemaMigration.describe(applied)).isEqualTo("API key schema is at version 2 (2 migration(s) applied)");
	}

}
