package dev.keyauth.test;

import java.util.LinkedHashMap;
import java.util.Map;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL the tests run against: the server named by {@code KEYAUTH_TEST_POSTGRES_URL}
 * (an R2DBC URL, with {@code KEYAUTH_TEST_POSTGRES_USER} / {@code _PASSWORD}) when set, otherwise
 * a Testcontainers PostgreSQL when Docker is available. With neither, tests fail with a message
 * saying how to provide one: a database test that silently skips proves nothing.
 */
public final class TestPostgres {

	public static final String URL_VARIABLE = "KEYAUTH_TEST_POSTGRES_URL";

	private static volatile Connection connection;

	private TestPostgres() {
	}

	/** Spring properties pointing R2DBC at the test database. */
	public static Map<String, String> properties() {
		Connection c = connection();
		Map<String, String> properties = new LinkedHashMap<>();
		properties.put("spring.r2dbc.url", c.r2dbcUrl());
		properties.put("spring.r2dbc.username", c.user());
		properties.put("spring.r2dbc.password", c.password());
		return properties;
	}

	/** The same properties as {@code key=value} strings, for {@code ApplicationContextRunner} and test annotations. */
	public static String[] propertyPairs() {
		return properties().entrySet().stream().map((e) -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
	}

	public static String host() {
		return java.net.URI.create(connection().r2dbcUrl().replaceFirst("^r2dbc:", "")).getHost();
	}

	public static int port() {
		int port = java.net.URI.create(connection().r2dbcUrl().replaceFirst("^r2dbc:", "")).getPort();
		return (port > 0) ? port : 5432;
	}

	public static String database() {
		return java.net.URI.create(connection().r2dbcUrl().replaceFirst("^r2dbc:", "")).getPath().substring(1);
	}

	public static String jdbcUrl() {
		return connection().r2dbcUrl().replaceFirst("^r2dbc:", "jdbc:");
	}

	public static String user() {
		return connection().user();
	}

	public static String password() {
		return connection().password();
	}

	private static Connection connection() {
		Connection c = connection;
		if (c == null) {
			synchronized (TestPostgres.class) {
				c = connection;
				if (c == null) {
					c = connect();
					connection = c;
				}
			}
		}
		return c;
	}

	private static Connection connect() {
		String url = System.getenv(URL_VARIABLE);
		if (url != null && !url.isBlank()) {
			return new Connection(url, env("KEYAUTH_TEST_POSTGRES_USER", "postgres"),
					env("KEYAUTH_TEST_POSTGRES_PASSWORD", ""));
		}
		if (DockerClientFactory.instance().isDockerAvailable()) {
			PostgreSQLContainer container = new PostgreSQLContainer("postgres:16-alpine");
			container.start();
			Runtime.getRuntime().addShutdownHook(new Thread(container::stop));
			String r2dbc = "r2dbc:postgresql://" + container.getHost() + ":" + container.getMappedPort(5432) + "/"
					+ container.getDatabaseName();
			return new Connection(r2dbc, container.getUsername(), container.getPassword());
		}
		throw new IllegalStateException("No PostgreSQL for the tests: set " + URL_VARIABLE
				+ " (for example r2dbc:postgresql://127.0.0.1:5432/keyauth_test) or make Docker available. "
				+ "`bash .ci/run` sets it up on a machine with a local PostgreSQL.");
	}

	private static String env(String name, String defaultValue) {
		String value = System.getenv(name);
		return (value != null) ? value : defaultValue;
	}

	private record Connection(String r2dbcUrl, String user, String password) {
	}

}
