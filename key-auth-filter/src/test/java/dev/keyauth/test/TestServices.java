package dev.keyauth.test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import org.springframework.test.context.DynamicPropertyRegistry;

/** Spring properties pointing an application at the test PostgreSQL and Redis. */
public final class TestServices {

	private TestServices() {
	}

	public static Map<String, String> properties() {
		Map<String, String> properties = new LinkedHashMap<>(TestPostgres.properties());
		properties.put("spring.data.redis.url", TestRedis.url());
		return properties;
	}

	/** Points a {@code @SpringBootTest} application at the test PostgreSQL and Redis. */
	public static void register(DynamicPropertyRegistry registry) {
		properties().forEach((name, value) -> registry.add(name, () -> value));
	}

	/**
	 * Declares gateway route number {@code index}: {@code id}, to {@code uri}, for paths matching
	 * {@code path}. Returns the route's property prefix, for metadata.
	 */
	public static String route(DynamicPropertyRegistry registry, int index, String id, Supplier<Object> uri,
			String path) {
		String route = "spring.cloud.gateway.server.webflux.routes[" + index + "]";
		registry.add(route + ".id", () -> id);
		registry.add(route + ".uri", uri);
		registry.add(route + ".predicates[0]", () -> "Path=" + path);
		return route;
	}

}
