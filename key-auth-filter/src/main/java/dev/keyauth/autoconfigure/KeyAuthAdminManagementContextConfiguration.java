package dev.keyauth.autoconfigure;

import dev.keyauth.admin.AdminTokenFilter;
import dev.keyauth.admin.ApiKeyAdminHandler;
import dev.keyauth.admin.ApiKeyAdminRoutes;

import org.springframework.boot.actuate.autoconfigure.endpoint.web.WebEndpointProperties;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.context.annotation.Bean;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * Serves the admin API under {@code <actuator base path>/apikeys} in the child context that
 * backs the separate management port, and nowhere else.
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
@ConditionalOnBean(ApiKeyAdminHandler.class)
public class KeyAuthAdminManagementContextConfiguration {

	@Bean
	RouterFunction<ServerResponse> apiKeyAdminRoutes(ApiKeyAdminHandler handler, AdminTokenFilter tokenFilter,
			WebEndpointProperties webEndpointProperties) {
		return ApiKeyAdminRoutes.routes(webEndpointProperties.getBasePath(), handler, tokenFilter);
	}

}
