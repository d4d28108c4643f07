package dev.keyauth.e2e;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.keyauth.test.EchoUpstream;
import dev.keyauth.test.GatewayInstance;
import dev.keyauth.test.Instances;
import dev.keyauth.test.TestServices;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Refresh-ahead in a running gateway on real PostgreSQL and Redis, with a short local TTL: a
 * key in constant use is re-read in the background, through Redis, and no request ever finds
 * its entry run out.
 */
class RefreshAheadTest {

	static final String ADMIN_TOKEN = "refresh-ahead-token";

	static EchoUpstream upstream;

	static GatewayInstance gateway;

	@BeforeAll
	static void start() {
		upstream = new EchoUpstream();
		Map<String, String> properties = TestServices.properties();
		properties.put("spring.cloud.gateway.server.webflux.routes[0].id", "echo");
		properties.put("spring.cloud.gateway.server.webflux.routes[0].uri", upstream.uri());
		properties.put("spring.cloud.gateway.server.webflux.routes[0].predicates[0]", "Path=/**");
		properties.put("keyauth.cache.local.ttl", "2s");
		properties.put("keyauth.cache.local.refresh-ahead", "1s");
		// Trust in the invalidation bus is not what this test is about: a heartbeat delayed on a
		// busy machine must not turn a hit into a miss here.
		properties.put("keyauth.cache.invalidation.unconfirmed-trust", "30s");
		gateway = GatewayInstance.start(MinimalGatewayApplication.class, properties, ADMIN_TOKEN);
	}

	@AfterAll
	static void stop() {
		Instances.closeAll(gateway, upstream);
	}

	@Test
	void aKeyInUseIsReadAgainInTheBackgroundAndNoRequestFindsItsTtlRunOut() {
		String key = (String) gateway.admin().create("refresh-" + UUID.randomUUID(), List.of()).get("key");
		// A change is invalidated twice, the second time keyauth.cache.invalidation.repeat-after
		// (1 s) later; that eviction is not what this test counts.
		Instances.sleep(1500);
		MeterRegistry meters = gateway.bean(MeterRegistry.class);
		double localMissesBefore = count(meters, "local", "miss");
		double redisReadsBefore = count(meters, "redis", "hit") + count(meters, "redis", "miss");
		// 5 s of steady use: two and a half local TTLs.
		for (int i = 0; i < 50; i++) {
			assertThat(gateway.status("/x", key)).isEqualTo(200);
			Instances.sleep(100);
		}
		assertThat(count(meters, "local", "miss") - localMissesBefore)
			.as("only the first request loaded the key; refreshes kept it fresh for the others")
			.isEqualTo(1);
		assertThat(count(meters, "redis", "hit") + count(meters, "redis", "miss") - redisReadsBefore)
			.as("the first load and at least three background refreshes read Redis")
			.isGreaterThanOrEqualTo(4);
	}

	private static double count(MeterRegistry meters, String tier, String result) {
		return meters.counter("keyauth.cache.requests", "tier", tier, "result", result).count();
	}

}
