package dev.keyauth.autoconfigure;

import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Lets an acquisition from Spring Boot's R2DBC pool pass over every dead connection, so that the
 * first key lookups and admin calls after PostgreSQL restarts or fails over succeed.
 * <p>
 * When PostgreSQL closes its connections (a restart, a failover, an idle-session timeout, a proxy
 * in between), they stay in the pool until they are handed out. r2dbc-pool validates a connection
 * as it hands it out and, when the connection is closed, discards it and tries again, but only
 * {@code spring.r2dbc.pool.acquire-retry} times, which Spring Boot sets to 1. With the default
 * ten connections dead, each of the next five acquisitions failed: keys no cache held were
 * answered 503 and admin calls failed although PostgreSQL was back. Retrying as often as the pool
 * can hold connections reaches a new one within a single acquisition.
 * <p>
 * While PostgreSQL is down, an acquisition then tries that many new connections, each refused at
 * once; the store's timeout and circuit breaker bound it as before. This is a default of the
 * lowest precedence: any {@code spring.r2dbc.pool.acquire-retry} of the application wins, and a
 * connection factory the application builds itself is not affected.
 */
public class KeyAuthPoolDefaults implements EnvironmentPostProcessor {

	static final String PROPERTY_SOURCE_NAME = "keyauthPoolDefaults";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		if (!environment.getProperty("keyauth.enabled", Boolean.class, true)) {
			return;
		}
		// Resolved when Boot binds its pool settings, so it follows the application's max-size
		// (Boot's default is 10).
		environment.getPropertySources()
			.addLast(new MapPropertySource(PROPERTY_SOURCE_NAME,
					Map.of("spring.r2dbc.pool.acquire-retry", "${spring.r2dbc.pool.max-size:10}")));
	}

}
