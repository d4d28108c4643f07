package dev.keyauth.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

import io.r2dbc.spi.ConnectionFactoryOptions;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.jspecify.annotations.Nullable;

import org.springframework.util.StringUtils;

/**
 * Brings the key tables up to date with Flyway, once, at start-up, over a short-lived JDBC
 * connection (the request path only ever uses R2DBC).
 * <p>
 * It keeps its own history table ({@value #HISTORY_TABLE}) so it can share a database, and even a
 * schema, with an application's own Flyway migrations without either seeing the other's
 * versions. Several gateways starting at once against PostgreSQL are safe: each holds an advisory
 * lock for its whole migration (see {@link #migrate()}), so one migrates and the others then find
 * the schema up to date.
 */
public final class SchemaMigration {

	public static final String HISTORY_TABLE = "keyauth_schema_history";

	/**
	 * The PostgreSQL advisory lock (session level) held around each gateway's migration: the
	 * bytes of "keyauth" with a version byte, so it cannot be mistaken for Flyway's own lock or an
	 * application's.
	 */
	static final long MIGRATION_LOCK = 0x6B65796175746801L;

	private static final Log logger = LogFactory.getLog(SchemaMigration.class);

	private final String jdbcUrl;

	private final @Nullable String user;

	private final @Nullable String password;

	private final String vendor;

	public SchemaMigration(String jdbcUrl, @Nullable String user, @Nullable String password) {
		this.jdbcUrl = jdbcUrl;
		this.user = user;
		this.password = password;
		this.vendor = vendorOf(jdbcUrl);
	}

	/**
	 * Migration settings for the database an R2DBC connection factory points at.
	 * @param options the R2DBC options (from {@code spring.r2dbc.url} and friends)
	 * @param jdbcUrlOverride a JDBC URL to use instead of the derived one, or {@code null}
	 */
	public static SchemaMigration forR2dbc(ConnectionFactoryOptions options, @Nullable String jdbcUrlOverride) {
		String user = stringOption(options, ConnectionFactoryOptions.USER);
		String password = stringOption(options, ConnectionFactoryOptions.PASSWORD);
		String url = StringUtils.hasText(jdbcUrlOverride) ? jdbcUrlOverride : jdbcUrlOf(options);
		return new SchemaMigration(url, user, password);
	}

	static String jdbcUrlOf(ConnectionFactoryOptions options) {
		String driver = stringOption(options, ConnectionFactoryOptions.DRIVER);
		if ("pool".equals(driver) || "proxy".equals(driver)) {
			driver = stringOption(options, ConnectionFactoryOptions.PROTOCOL);
		}
		if ("h2".equals(driver)) {
			return h2JdbcUrl(options);
		}
		if (!"postgresql".equals(driver) && !"postgres".equals(driver)) {
			throw new IllegalStateException("API keys need PostgreSQL or H2, but the R2DBC driver is '" + driver
					+ "'; set keyauth.store.migration-jdbc-url or keyauth.store.migrate=false");
		}
		String host = stringOption(options, ConnectionFactoryOptions.HOST);
		Object port = options.getValue(ConnectionFactoryOptions.PORT);
		String database = stringOption(options, ConnectionFactoryOptions.DATABASE);
		return "jdbc:postgresql://" + ((host != null) ? host : "localhost") + ((port != null) ? ":" + port : "") + "/"
				+ ((database != null) ? database : "");
	}

	/**
	 * The JDBC URL of the database r2dbc-h2 opens for these options: it appends the URL's path to
	 * {@code file:} or {@code mem:} as it is, so {@code r2dbc:h2:file:////abs/path} is absolute.
	 */
	private static String h2JdbcUrl(ConnectionFactoryOptions options) {
		String protocol = stringOption(options, ConnectionFactoryOptions.PROTOCOL);
		String host = stringOption(options, ConnectionFactoryOptions.HOST);
		String database = stringOption(options, ConnectionFactoryOptions.DATABASE);
		Object settings = options.getValue(io.r2dbc.spi.Option.valueOf("options"));
		String extra = (settings != null) ? ";" + settings : "";
		if ("mem".equals(protocol)) {
			// Kept open for as long as the JVM lives, so the migrated schema is still there for R2DBC.
			return "jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1" + extra;
		}
		return "jdbc:h2:file:" + ((host != null) ? host + "/" : "") + database + extra;
	}

	private static @Nullable String stringOption(ConnectionFactoryOptions options,
			io.r2dbc.spi.Option<?> option) {
		Object value = options.getValue(option);
		if (value instanceof CharSequence text) {
			return text.toString();
		}
		return (value != null) ? value.toString() : null;
	}

	private static String vendorOf(String jdbcUrl) {
		if (jdbcUrl.startsWith("jdbc:postgresql:")) {
			return "postgresql";
		}
		if (jdbcUrl.startsWith("jdbc:h2:")) {
			return "h2";
		}
		throw new IllegalStateException("no API key migrations for " + jdbcUrl.replaceAll("\\?.*", ""));
	}

	public String jdbcUrl() {
		return this.jdbcUrl;
	}

	/**
	 * Applies pending migrations, on PostgreSQL under an advisory lock so that gateways starting
	 * together migrate one after another; fails start-up when the database cannot be migrated.
	 */
	public MigrateResult migrate() {
		Flyway flyway = Flyway.configure(SchemaMigration.class.getClassLoader())
			.dataSource(this.jdbcUrl, this.user, this.password)
			.locations("classpath:keyauth/db/migration/" + this.vendor)
			.table(HISTORY_TABLE)
			// A database that already holds other tables is normal for a library: start our own
			// history at version 0 so that V1 still runs.
			.baselineOnMigrate(true)
			.baselineVersion("0")
			.load();
		MigrateResult result = "postgresql".equals(this.vendor) ? migrateHoldingLock(flyway) : flyway.migrate();
		logger.info(describe(result) + " in " + this.jdbcUrl.replaceAll("\\?.*", ""));
		return result;
	}

	/**
	 * What a migration left, for the start-up log. Flyway reports no target version when it had
	 * nothing to apply, so an up-to-date schema is stated by the version it started from.
	 */
	static String describe(MigrateResult result) {
		if (result.migrationsExecuted == 0) {
			return "API key schema is at version " + result.initialSchemaVersion + " (up to date)";
		}
		return "API key schema is at version " + result.targetSchemaVersion + " (" + result.migrationsExecuted
				+ " migration(s) applied)";
	}

	/**
	 * Flyway takes its own lock only after it has looked at the schema, so two gateways starting
	 * together on a database without the history table could both decide how to begin it: one
	 * creates the table and migrates, the other finds the schema no longer empty, tries to
	 * baseline a history table that now exists with no rows yet, and fails start-up. One lock
	 * around the whole of each migration makes the others wait (PostgreSQL releases it if a
	 * gateway dies holding it) and then find the schema up to date; the first start-up of a
	 * fleet is serialised by the few hundred milliseconds a migration takes, later ones by a
	 * validation.
	 */
	private MigrateResult migrateHoldingLock(Flyway flyway) {
		// A connection of its own (Flyway's data source opens a new one per call), held until the
		// migration ends: closing it releases the lock, whether the migration succeeded or not.
		try (Connection connection = flyway.getConfiguration().getDataSource().getConnection();
				PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_lock(?)")) {
			lock.setLong(1, MIGRATION_LOCK);
			lock.execute();
			return flyway.migrate();
		}
		catch (SQLException ex) {
			throw new FlywayException("Could not lock the API key schema for migration in "
					+ this.jdbcUrl.replaceAll("\\?.*", "") + ": " + ex.getMessage(), ex);
		}
	}

}
