package dev.keyauth.store;

import java.util.Map;

import dev.keyauth.test.TestPostgres;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import org.junit.jupiter.api.BeforeEach;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.r2dbc.core.DatabaseClient;

class PostgresApiKeyStoreTest extends R2dbcApiKeyStoreTest {

	@BeforeEach
	void connect() {
		new SchemaMigration(TestPostgres.jdbcUrl(), TestPostgres.user(), TestPostgres.password()).migrate();
		Map<String, String> p = TestPostgres.properties();
		this.client = DatabaseClient.create(ConnectionFactories.get(ConnectionFactoryOptions
			.parse(p.get("spring.r2dbc.url"))
			.mutate()
			.option(ConnectionFactoryOptions.USER, p.get("spring.r2dbc.username"))
			.option(ConnectionFactoryOptions.PASSWORD, p.get("spring.r2dbc.password"))
			.build()));
		this.store = new R2dbcApiKeyStore(this.client, new JsonMapper(), R2dbcApiKeyStore.Dialect.POSTGRESQL);
	}

	@Override
	SchemaMigration migration() {
		return new SchemaMigration(TestPostgres.jdbcUrl(), TestPostgres.user(), TestPostgres.password());
	}

}
