package dev.keyauth.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.keyauth.test.TestPostgres;
import dev.keyauth.test.TestRedis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs after the whole suite (failsafe, in {@code verify}) and looks for a raw key anywhere the
 * suite could have left one: every row of every table of the test database, every string and
 * hash in Redis, and every line the tests logged. A raw key is the prefix and 49 base62
 * characters; what may appear is the 12-character visible start, or a masked key.
 * <p>
 * When the tests ran on Testcontainers (Docker), this JVM gets fresh, empty services, and the
 * database and Redis checks are skipped rather than passing on nothing.
 */
class NoRawKeyAfterTheSuiteIT {

	private static final Pattern RAW_KEY = Pattern.compile("sk_(?:live|test)_[0-9A-Za-z]{49}");

	private static List<String> rawKeysIn(String text) {
		List<String> found = new ArrayList<>();
		Matcher matcher = RAW_KEY.matcher(text);
		while (matcher.find()) {
			// Reported by their visible start only: this test must not print what it looks for.
			found.add(matcher.group().substring(0, 12) + "...");
		}
		return found;
	}

	@Test
	void noTableOfTheTestDatabaseHoldsARawKey() throws SQLException {
		List<String> found = new ArrayList<>();
		long keyRows = 0;
		try (Connection connection = DriverManager.getConnection(TestPostgres.jdbcUrl(), TestPostgres.user(),
				TestPostgres.password()); Statement statement = connection.createStatement()) {
			List<String> tables = new ArrayList<>();
			try (ResultSet rs = statement.executeQuery(
					"SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")) {
				while (rs.next()) {
					tables.add(rs.getString(1));
				}
			}
			for (String table : tables) {
				try (ResultSet rs = statement.executeQuery("SELECT CAST(t AS text) FROM \"" + table + "\" t")) {
					while (rs.next()) {
						if (table.equals("keyauth_api_keys")) {
							keyRows++;
						}
						rawKeysIn(rs.getString(1)).forEach((key) -> found.add(table + ": " + key));
					}
				}
			}
		}
		assumeTrue(keyRows > 0, "the test database is empty: the suite ran on other services (Testcontainers)");
		assertThat(keyRows).as("keys the suite created").isGreaterThan(100);
		assertThat(found).as("raw keys in PostgreSQL").isEmpty();
	}

	@Test
	void noRedisEntryHoldsARawKey() {
		List<String> found = new ArrayList<>();
		int entries = 0;
		RedisClient client = RedisClient.create(TestRedis.url());
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			RedisCommands<String, String> redis = connection.sync();
			for (String name : redis.keys("*")) {
				StringBuilder content = new StringBuilder(name).append('\n');
				String type = redis.type(name);
				if ("string".equals(type)) {
					content.append(redis.get(name));
				}
				else if ("hash".equals(type)) {
					redis.hgetall(name).forEach((field, value) -> content.append(field).append('=').append(value));
				}
				entries++;
				rawKeysIn(content.toString()).forEach((key) -> found.add(name + ": " + key));
			}
		}
		finally {
			client.shutdown();
		}
		assumeTrue(entries > 0, "Redis is empty: the suite ran on other services (Testcontainers)");
		assertThat(found).as("raw keys in Redis").isEmpty();
	}

	@Test
	void noTestLogLineHoldsARawKey() throws IOException {
		List<Path> logs;
		try (Stream<Path> files = Files.list(Path.of("target", "surefire-reports"))) {
			logs = files.filter((file) -> file.getFileName().toString().endsWith("-output.txt")).toList();
		}
		assertThat(logs).as("test logs to scan").isNotEmpty();
		List<String> found = new ArrayList<>();
		long masked = 0;
		for (Path log : logs) {
			// Latin-1 reads any bytes: some tests send invalid UTF-8 on purpose, and it may be logged.
			String text = Files.readString(log, StandardCharsets.ISO_8859_1);
			masked += Pattern.compile("sk_live_\\w{4}\\*{8}").matcher(text).results().count();
			rawKeysIn(text).forEach((key) -> found.add(log.getFileName() + ": " + key));
		}
		// Control: keys did reach the logs, masked.
		assertThat(masked).as("masked keys in the test logs").isPositive();
		assertThat(found).as("raw keys in the test logs").isEmpty();
	}

}
