package dev.keyauth.autoconfigure;

import dev.keyauth.store.AbandonedConnections;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.R2dbcApiKeyStore;
import dev.keyauth.store.SchemaMigration;
import io.r2dbc.spi.ConnectionFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.util.StringUtils;

/**
 * The key store on the application's R2DBC connection factory, with its schema migrated by
 * Flyway at start-up.
 */
@Configuration(proxyBeanMethods = false)
class KeyAuthStoreConfiguration {

	@Bean(initMethod = "migrate")
	@ConditionalOnMissingBean
	@ConditionalOnBean(ConnectionFactory.class)
	@ConditionalOnProperty(prefix = "keyauth.store", name = "migrate", matchIfMissing = true)
	SchemaMigration keyAuthSchemaMigration(ObjectProvider<R2dbcConnectionDetails> connectionDetails,
			KeyAuthProperties properties) {
		String override = properties.getStore().getMigrationJdbcUrl();
		R2dbcConnectionDetails details = connectionDetails.getIfAvailable();
		if (details == null && !StringUtils.hasText(override)) {
			throw new IllegalStateException("Cannot migrate the API key schema: no spring.r2dbc.url is set. "
					+ "Set keyauth.store.migration-jdbc-url, or keyauth.store.migrate=false if the schema is "
					+ "managed elsewhere.");
		}
		return (details != null) ? SchemaMigration.forR2dbc(details.getConnectionFactoryOptions(), override)
				: new SchemaMigration(override, null, null);
	}

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(ConnectionFactory.class)
	ApiKeyStore apiKeyStore(ConnectionFactory connectionFactory, ObjectProvider<DatabaseClient> databaseClient,
			ObjectProvider<SchemaMigration> migration, ObjectProvider<JsonMapper> jsonMapper) {
		// Resolving the migration first guarantees the tables exist before the first lookup.
		migration.ifAvailable((ignored) -> {
		});
		DatabaseClient application = databaseClient.getIfAvailable();
		ConnectionFactory connections = (application != null) ? application.getConnectionFactory() : connectionFactory;
		// The store's own client, so that a connection whose call timed out is closed rather than
		// handed out again (AbandonedConnections); the pool and its connections are the application's.
		return new R2dbcApiKeyStore(DatabaseClient.create(AbandonedConnections.closing(connections)),
				jsonMapper.getIfAvailable(JsonMapper::new),
				R2dbcApiKeyStore.Dialect.of(connectionFactory.getMetadata().getName()));
	}

}
