package dev.keyauth.filter;

import java.nio.charset.StandardCharsets;

import reactor.core.publisher.Mono;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;

/**
 * Refuses, with 400, every routed request whose path has a dot segment ({@code .} or
 * {@code ..}), plain or percent-encoded, on every route, those without key auth included.
 * <p>
 * The gateway matches routes on the path exactly as it arrived and forwards it so, while most
 * servers resolve dot segments before they serve a path. Without this, a request for
 * {@code /public/../orders/1} matches a route that needs no key and reaches the downstream
 * service as {@code /orders/1}, which needs one; and {@code /orders/x/../admin/y} passes a
 * route's scope check for one resource and is served another. (Envoy's CVE-2019-9901 is the same
 * flaw.) Refusing is chosen over rewriting: a client that sends such a path is broken or probing,
 * and a 400 leaves the route decision and the forwarded path the same thing.
 * <p>
 * What counts as a segment is read as widely as any downstream server might: percent-encoding
 * is decoded (up to three times, for double encoding), {@code \} separates segments as
 * {@code /} does, a {@code ;} starts path parameters that Tomcat, Jetty and Spring strip
 * ({@code ..;}), a NUL ends the segment, and a segment of dots only is a dot segment however many ({@code ...}, which
 * some servers read as {@code ..}). Paths without {@code .} or {@code %} are passed after one
 * scan, which is every request of most APIs.
 */
public class DotSegmentFilter implements GlobalFilter, Ordered {

	/**
	 * Order of this filter: just before {@link ApiKeyAuthenticationFilter#KEY_AUTH_FILTER_ORDER},
	 * so a refused path is never authenticated, counted or rate limited.
	 */
	public static final int DOT_SEGMENT_FILTER_ORDER = ApiKeyAuthenticationFilter.KEY_AUTH_FILTER_ORDER - 1;

	private static final byte[] BODY = ("{\"error\":\"invalid_path\",\"message\":\"The request path must not contain "
			+ "'.' or '..' segments, plain or percent-encoded.\"}").getBytes(StandardCharsets.UTF_8);

	private static final int MAX_DECODINGS = 3;

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
		String rawPath = exchange.getRequest().getURI().getRawPath();
		if (rawPath == null || !hasDotSegment(rawPath)) {
			return chain.filter(exchange);
		}
		return Refusals.afterRequestRead(exchange, () -> refuse(exchange.getResponse()));
	}

	private static Mono<Void> refuse(ServerHttpResponse response) {
		response.setStatusCode(HttpStatus.BAD_REQUEST);
		response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
		response.getHeaders().setContentLength(BODY.length);
		response.getHeaders().setCacheControl("no-store");
		return response.writeWith(Mono.just(response.bufferFactory().wrap(BODY)));
	}

	/** Whether any server could read a dot segment in this raw (still percent-encoded) path. */
	public static boolean hasDotSegment(String rawPath) {
		if (rawPath.indexOf('.') < 0 && rawPath.indexOf('%') < 0) {
			return false;
		}
		String path = rawPath;
		for (int i = 0; i < MAX_DECODINGS && path.indexOf('%') >= 0; i++) {
			path = percentDecoded(path);
		}
		int start = 0;
		for (int i = 0; i <= path.length(); i++) {
			char c = (i < path.length()) ? path.charAt(i) : '/';
			if (c == '/' || c == '\\') {
				if (isDotsOnly(path, start, i)) {
					return true;
				}
				start = i + 1;
			}
		}
		return false;
	}

	/**
	 * Whether the segment from start to end is one or more dots, up to its first ';' (path
	 * parameters) or NUL (where a server written in C may take the string to end).
	 */
	private static boolean isDotsOnly(String path, int start, int end) {
		int dots = 0;
		for (int i = start; i < end; i++) {
			char c = path.charAt(i);
			if (c == ';' || c == '\0') {
				break;
			}
			if (c != '.') {
				return false;
			}
			dots++;
		}
		return dots > 0;
	}

	/**
	 * Each {@code %XX} replaced by the character of that byte value, which is exact for the
	 * ASCII characters looked for here; anything else that is not a valid escape stays as it is.
	 */
	private static String percentDecoded(String path) {
		StringBuilder decoded = new StringBuilder(path.length());
		for (int i = 0; i < path.length(); i++) {
			char c = path.charAt(i);
			int high = (c == '%' && i + 2 < path.length()) ? Character.digit(path.charAt(i + 1), 16) : -1;
			int low = (high >= 0) ? Character.digit(path.charAt(i + 2), 16) : -1;
			if (low >= 0) {
				decoded.append((char) (high * 16 + low));
				i += 2;
			}
			else {
				decoded.append(c);
			}
		}
		return decoded.toString();
	}

	@Override
	public int getOrder() {
		return DOT_SEGMENT_FILTER_ORDER;
	}

}
