package dev.keyauth.autoconfigure;

import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

class KeyAuthPoolDefaultsTest {

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
	void nothingChangesWithKeyAuthOff() {
		assertThat(acquireRetry(Map.of("keyauth.enabled", "false"))).isNull();
	}

	private static @Nullable Integer acquireRetry(Map<String, Object> settings) {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources().addFirst(new MapPropertySource("application", settings));
		new KeyAuthPoolDefaults().postProcessEnvironment(environment, new SpringApplication());
		// Bound the way Spring Boot binds its R2DBC pool settings, placeholders resolved.
		return Binder.get(environment).bind("spring.r2dbc.pool.acquire-retry", Integer.class).orElse(null);
	}

}
