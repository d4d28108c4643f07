package dev.keyauth.autoconfigure;

import java.time.Duration;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

class KeyAuthPropertyDefaultsTest {

	@Test
	void anAcquisitionMayPassOverEveryConnectionOfBootsDefaultPool() {
		assertThat(acquireRetry(Map.of())).isEqualTo(10);
	}

	@Test
	void followsTheApplicationsPoolSize() {
		assertThat(acquireRetry(Map.of("spring.r2dbc.pool.max-size", "25"))).isEqualTo(25);
	}

	@Test
	void theApplicationsOwnSettingWins() {
		assertThat(acquireRetry(Map.of("spring.r2dbc.pool.acquire-retry", "3", "spring.r2dbc.pool.max-size", "25")))
			.isEqualTo(3);
	}

	@Test
	void idleConnectionsAreClosedBeforeMiddleboxesDropThem() {
		assertThat(maxIdleTime(Map.of())).isEqualTo(Duration.ofMinutes(3));
		assertThat(maxIdleTime(Map.of("spring.r2dbc.pool.max-idle-time", "30m"))).isEqualTo(Duration.ofMinutes(30));
	}

	@Test
	void openingAConnectionIsBounded() {
		assertThat(duration("spring.r2dbc.pool.max-create-connection-time", Map.of())).isEqualTo(Duration.ofSeconds(5));
		assertThat(duration("spring.r2dbc.pool.max-create-connection-time",
				Map.of("spring.r2dbc.pool.max-create-connection-time", "20s")))
			.isEqualTo(Duration.ofSeconds(20));
	}

	@Test
	void nothingChangesWithKeyAuthOff() {
		assertThat(acquireRetry(Map.of("keyauth.enabled", "false"))).isNull();
		assertThat(maxIdleTime(Map.of("keyauth.enabled", "false"))).isNull();
		assertThat(duration("spring.r2dbc.pool.max-create-connection-time", Map.of("keyauth.enabled", "false")))
			.isNull();
		assertThat(environment(Map.of("keyauth.enabled", "false")).getProperty("management.server.port")).isNull();
	}

	@Test
	void actuatorAndTheAdminApiMoveOffTheProxyPort() {
		StandardEnvironment environment = environment(Map.of());
		assertThat(environment.getProperty("management.server.port")).isEqualTo("8081");
		assertThat(environment.getProperty("management.server.address")).isEqualTo("127.0.0.1");
		assertThat(environment(Map.of("management.server.port", "9000")).getProperty("management.server.port"))
			.isEqualTo("9000");
		// Probes, where enabled, stay reachable for a kubelet on the proxy port.
		assertThat(environment.getProperty("management.endpoint.health.probes.add-additional-paths")).isEqualTo("true");
		assertThat(environment(Map.of("management.endpoint.health.probes.add-additional-paths", "false"))
			.getProperty("management.endpoint.health.probes.add-additional-paths")).isEqualTo("false");
	}

	private static @Nullable Integer acquireRetry(Map<String, Object> settings) {
		// Bound the way Spring Boot binds its R2DBC pool settings, placeholders resolved.
		return Binder.get(environment(settings)).bind("spring.r2dbc.pool.acquire-retry", Integer.class).orElse(null);
	}

	private static @Nullable Duration maxIdleTime(Map<String, Object> settings) {
		return duration("spring.r2dbc.pool.max-idle-time", settings);
	}

	private static @Nullable Duration duration(String name, Map<String, Object> settings) {
		return Binder.get(environment(settings)).bind(name, Duration.class).orElse(null);
	}

	private static StandardEnvironment environment(Map<String, Object> settings) {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources().addFirst(new MapPropertySource("application", settings));
		new KeyAuthPropertyDefaults().postProcessEnvironment(environment, new SpringApplication());
		return environment;
	}

}
