package dev.keyauth.autoconfigure;

import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Spring Boot settings the plugin changes by default, as defaults of the lowest precedence: any
 * setting of the application wins, and with {@code keyauth.enabled=false} there are none.
 * <ul>
 * <li>Actuator, and with it the key admin API, moves off the proxy port: to port 8081 on the
 * loopback interface. A Kubernetes kubelet probes the pod's own address, which that port then
 * does not listen on, so the liveness and readiness probes, where they are enabled (Spring Boot
 * enables them on Kubernetes), are also answered on the proxy port as {@code /livez} and
 * {@code /readyz} ({@code management.endpoint.health.probes.add-additional-paths}): status only,
 * no key needed. Boot maps them ahead of the gateway's routes, and {@link ProbePathsHandlerMapping}
 * keeps that mapping from matching any other request.</li>
 * <li>An acquisition from Spring Boot's R2DBC pool may pass over every dead connection
 * ({@code spring.r2dbc.pool.acquire-retry} follows the pool's {@code max-size}; Boot's default is
 * 1). When PostgreSQL closes its connections (a restart, a failover, an idle-session timeout),
 * they stay in the pool until handed out; r2dbc-pool validates each as it hands it out and, when
 * it is closed, discards it and tries again, but only that many times. With the default ten
 * connections dead and one retry, each of the next five acquisitions failed: keys no cache held
 * were answered 503 and admin calls failed although PostgreSQL was back. While PostgreSQL is
 * down, an acquisition now tries that many new connections, each refused at once; the store's
 * timeout and breaker bound it as before. A connection factory the application builds itself is
 * not affected.</li>
 * <li>A pooled connection idle for three minutes is closed ({@code spring.r2dbc.pool.max-idle-time};
 * Boot's default is 30 minutes). Firewalls, NAT gateways and load balancers between the gateway
 * and a managed PostgreSQL drop connections idle for a few minutes (Azure's load balancer after 4,
 * AWS's NAT gateway and NLB after 350 s), mostly without telling either end. r2dbc-pool hands out
 * the most recently used connection first, so in a quiet gateway most of the pool sits idle for
 * long stretches, and at the next burst each dropped connection cost one lookup its store timeout
 * ({@code AbandonedConnections} then replaces it). Closed after three minutes idle, none is
 * handed out dead; the price is a new connection now and then in a quiet gateway.</li>
 * <li>Opening a connection may take at most five seconds
 * ({@code spring.r2dbc.pool.max-create-connection-time}; Boot sets no bound). During a partition
 * from PostgreSQL, or while it is too stuck to answer, the pool's openings wait for a handshake
 * that does not come, and each holds one of the pool's places meanwhile: an unanswered connect
 * for about two minutes on Linux, an accepted but unanswered one for good. Once they held all of
 * them, the pool opened nothing more after the partition healed, and every key no cache held was
 * refused for as long as they lasted. Bounded, they end within five seconds and the next lookup
 * opens a new connection.</li>
 * </ul>
 */
public class KeyAuthPropertyDefaults implements EnvironmentPostProcessor {

	static final String PROPERTY_SOURCE_NAME = "keyauthPropertyDefaults";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		if (!environment.getProperty("keyauth.enabled", Boolean.class, true)) {
			return;
		}
		environment.getPropertySources()
			.addLast(new MapPropertySource(PROPERTY_SOURCE_NAME, Map.of(
					"management.server.port", "8081",
					"management.server.address", "127.0.0.1",
					"management.endpoint.health.probes.add-additional-paths", "true",
					// Resolved when Boot binds its pool settings, so it follows the application's
					// max-size (Boot's default is 10).
					"spring.r2dbc.pool.acquire-retry", "${spring.r2dbc.pool.max-size:10}",
					"spring.r2dbc.pool.max-idle-time", "3m",
					"spring.r2dbc.pool.max-create-connection-time", "5s")));
	}

}
