package dev.keyauth.e2e;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Cloud Gateway application that does nothing but have key-auth-filter on its class
 * path: everything the tests in this package see comes from auto-configuration.
 */
@SpringBootApplication
public class MinimalGatewayApplication {

}
