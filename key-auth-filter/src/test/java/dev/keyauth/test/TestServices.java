package dev.keyauth.test;

import java.util.LinkedHashMap;
import java.util.Map;

/** Spring properties pointing an application at the test PostgreSQL and Redis. */
public final class TestServices {

	private TestServices() {
	}

	public static Map<String, String> properties() {
		Map<String, String> properties = new LinkedHashMap<>(TestPostgres.properties());
		properties.put("spring.data.redis.url", TestRedis.url());
		return properties;
	}

}
