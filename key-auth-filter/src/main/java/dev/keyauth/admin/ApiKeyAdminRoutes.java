package dev.keyauth.admin;

import reactor.core.publisher.Mono;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * The admin API's routes under {@code <actuator base path>/apikeys}, every one behind the admin
 * token.
 * <p>
 * A call the API does not serve is still answered in its own error shape and only after the
 * token check: 405 with {@code Allow} for a known path with another method, 404 for any other
 * path below the base. Without these the management server's default error page would answer,
 * with another body and to callers without the token too.
 */
public final class ApiKeyAdminRoutes {

	public static final String ENDPOINT_ID = "apikeys";

	private ApiKeyAdminRoutes() {
	}

	public static RouterFunction<ServerResponse> routes(String actuatorBasePath, ApiKeyAdminHandler handler,
			AdminTokenFilter tokenFilter) {
		String base = actuatorBasePath.replaceAll("/+$", "") + "/" + ENDPOINT_ID;
		String key = base + "/{id}";
		String action = key + "/{action:rotate|disable|enable}";
		String identify = base + "/identify";
		return RouterFunctions.route()
			// Ahead of the routes with an id, which would take "identify" for one.
			.POST(identify, handler::identify)
			.route(RequestPredicates.path(identify), (request) -> otherMethod(request, "POST"))
			.POST(base, handler::create)
			.GET(base, handler::list)
			.HEAD(base, handler::list)
			.DELETE(base, handler::revokeAll)
			.GET(key, handler::get)
			.HEAD(key, handler::get)
			.PATCH(key, handler::update)
			.DELETE(key, handler::revoke)
			.POST(key + "/rotate", handler::rotate)
			.POST(key + "/disable", handler::disable)
			.POST(key + "/enable", handler::enable)
			.route(RequestPredicates.path(base), (request) -> otherMethod(request, "GET, HEAD, POST, DELETE"))
			.route(RequestPredicates.path(key), (request) -> otherMethod(request, "GET, HEAD, PATCH, DELETE"))
			.route(RequestPredicates.path(action), (request) -> otherMethod(request, "POST"))
			.route(RequestPredicates.path(base + "/**"), (request) -> AdminResponses.error(new AdminRequestException(
					HttpStatus.NOT_FOUND, "not_found", "no such admin call: " + request.path())))
			.filter(tokenFilter)
			.build();
	}

	/** A served path with a method it does not take; {@code OPTIONS} learns which it does. */
	private static Mono<ServerResponse> otherMethod(ServerRequest request, String allowed) {
		if (HttpMethod.OPTIONS.equals(request.method())) {
			return ServerResponse.noContent().header(HttpHeaders.ALLOW, allowed + ", OPTIONS").build();
		}
		return AdminResponses.error(new AdminRequestException(HttpStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
				request.method().name() + " is not served here; use " + allowed), allowed + ", OPTIONS");
	}
}
