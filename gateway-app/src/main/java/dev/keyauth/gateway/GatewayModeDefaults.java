package dev.keyauth.gateway;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.StringUtils;

/**
 * Chooses what the reference gateway runs on from what the operator configured:
 * <ul>
 * <li>no database URL (KEYAUTH_DB_URL / spring.r2dbc.url): an embedded H2 database in a file
 * under the data directory (GATEWAY_DATA_DIR, default ./data), so keys survive a restart;</li>
 * <li>no Redis URL (KEYAUTH_REDIS_URL / spring.data.redis.url or .host): no Redis at all, so the
 * gateway neither tries to connect nor reports Redis as down; caching is in-process only.</li>
 * </ul>
 * Set both and the same jar runs production-shaped on PostgreSQL and Redis.
 */
public class GatewayModeDefaults implements EnvironmentPostProcessor {

	static final String PROPERTY_SOURCE = "gatewayModeDefaults";

	private static final String[] REDIS_AUTO_CONFIGURATIONS = {
			"org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.DataRedisRepositoriesAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.health.DataRedisHealthContributorAutoConfiguration",
			"org.springframework.boot.data.redis.autoconfigure.health.DataRedisReactiveHealthContributorAutoConfiguration" };

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		Map<String, Object> defaults = new LinkedHashMap<>();
		if (!StringUtils.hasText(environment.getProperty("spring.r2dbc.url"))) {
			Path file = Path.of(environment.getProperty("gateway.data-dir", "data")).toAbsolutePath().normalize()
				.resolve("keyauth");
			// r2dbc-h2 appends the URL's path to "file:" as it is: "file:///" + "/abs/path" is
			// absolute. H2 would close the database from its own JVM shutdown hook, racing the
			// graceful shutdown that still writes usage counts: the application closes it instead.
			defaults.put("spring.r2dbc.url", "r2dbc:h2:file:///" + file.toString().replace('\\', '/')
					+ "?options=DB_CLOSE_ON_EXIT=FALSE");
			defaults.put("spring.r2dbc.username", "sa");
			defaults.put("spring.r2dbc.password", "");
		}
		if (!StringUtils.hasText(environment.getProperty("spring.data.redis.url"))
				&& !StringUtils.hasText(environment.getProperty("spring.data.redis.host"))) {
			String excluded = environment.getProperty("spring.autoconfigure.exclude", "");
			defaults.put("spring.autoconfigure.exclude",
					(StringUtils.hasText(excluded) ? excluded + "," : "") + String.join(",", REDIS_AUTO_CONFIGURATIONS));
			defaults.put("keyauth.cache.redis.enabled", "false");
		}
		if (!defaults.isEmpty()) {
			// First, because application.yml maps the unset variables to empty values.
			environment.getPropertySources().addFirst(new MapPropertySource(PROPERTY_SOURCE, defaults));
		}
	}

}
