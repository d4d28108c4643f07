package dev.keyauth.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The reference gateway: Spring Cloud Gateway, the routes of {@code routes.yml}, and
 * key-auth-filter. Everything it does comes from configuration.
 */
@SpringBootApplication
public class GatewayApplication {

	public static void main(String[] args) {
		SpringApplication.run(GatewayApplication.class, args);
	}

}
