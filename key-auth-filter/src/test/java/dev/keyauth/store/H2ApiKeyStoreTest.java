package dev.keyauth.store;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import org.junit.jupiter.api.BeforeEach;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.r2dbc.core.DatabaseClient;

class H2ApiKeyStoreTest extends R2dbcApiKeyStoreTest {

	private static final String R2DBC_URL = "r2dbc:h2:mem:///keyauth_store_test";

	@BeforeEach
	void connect() {
		ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(R2DBC_URL);
		SchemaMigration.forR2dbc(options, null).migrate();
		this.client = DatabaseClient.create(ConnectionFactories.get(options));
		this.store = new R2dbcApiKeyStore(this.client, new JsonMapper(), R2dbcApiKeyStore.Dialect.H2);
	}

	@Override
	SchemaMigration migration() {
		return SchemaMigration.forR2dbc(ConnectionFactoryOptions.parse(R2DBC_URL), null);
	}

}
