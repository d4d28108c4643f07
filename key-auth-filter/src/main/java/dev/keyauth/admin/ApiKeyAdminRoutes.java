package dev.keyauth.admin;

import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * The admin API's routes under {@code <actuator base path>/apikeys}, every one behind the admin
 * token.
 */
public final class ApiKeyAdminRoutes {

	public static final String ENDPOINT_ID = "apikeys";

	private ApiKeyAdminRoutes() {
	}

	public static RouterFunction<ServerResponse> routes(String actuatorBasePath, ApiKeyAdminHandler handler,
			AdminTokenFilter tokenFilter) {
		String base = actuatorBasePath.replaceAll("/+$", "") + "/" + ENDPOINT_ID;
		return RouterFunctions.route()
			.POST(base, handler::create)
			.GET(base, handler::list)
			.DELETE(base, handler::revokeAll)
			.GET(base + "/{id}", handler::get)
			.PATCH(base + "/{id}", handler::update)
			.DELETE(base + "/{id}", handler::revoke)
			.POST(base + "/{id}/rotate", handler::rotate)
			.POST(base + "/{id}/disable", handler::disable)
			.POST(base + "/{id}/enable", handler::enable)
			.filter(tokenFilter)
			.build();
	}

}
