package dev.keyauth.autoconfigure;

import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Moves actuator, and with it the key admin API, off the proxy port by default: to port 8081 on
 * the loopback interface. These are defaults of the lowest precedence; any
 * {@code management.server.*} setting of the application wins.
 */
public class KeyAuthManagementDefaults implements EnvironmentPostProcessor {

	static final String PROPERTY_SOURCE_NAME = "keyauthManagementDefaults";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		if (!environment.getProperty("keyauth.enabled", Boolean.class, true)) {
			return;
		}
		environment.getPropertySources()
			.addLast(new MapPropertySource(PROPERTY_SOURCE_NAME,
					Map.of("management.server.port", "8081", "management.server.address", "127.0.0.1")));
	}

}
