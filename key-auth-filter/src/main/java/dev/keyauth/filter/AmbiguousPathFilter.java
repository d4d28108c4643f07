package dev.keyauth.filter;

import java.nio.charset.StandardCharsets;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;

/**
 * Refuses, with 400, every routed request whose path a downstream server, or the gateway's own
 * forwarding, could read as another path than the one the gateway routed: a dot segment
 * ({@code .} or {@code ..}), plain or percent-encoded; an empty segment ({@code //}) anywhere but
 * at the end; a percent-encoded control character (a NUL ends the path for a server written in
 * C); and (unless allowed) a percent-encoded {@code /} or {@code \}. On every route, those without
 * key auth included.
 * <p>
 * The gateway matches routes on the path exactly as it arrived, while most servers resolve dot
 * segments, and some decode {@code %2F} into a separator (nginx, Go's {@code net/http}), before
 * they serve a path. Without this, {@code /public/../orders/1} matches a route that needs no key
 * and reaches the downstream service as {@code /orders/1}, which needs one; and
 * {@code /orders/x/../admin/y} or {@code /orders/admin%2Fy} passes the scope check of
 * {@code /orders/**} and is served as {@code /orders/admin/y}. (Envoy's CVE-2019-9901 is the same
 * flaw.) Empty segments need no help from the downstream server: the gateway builds the URI it
 * forwards to with Spring's {@code UriComponentsBuilder}, which collapses repeated slashes, so
 * {@code /orders//admin/y} misses {@code /orders/admin/**}, matches {@code /orders/**} and is sent
 * as {@code /orders/admin/y}. A segment that is empty but for path parameters ({@code /;x/}) counts
 * too, since the servers that strip those (Tomcat, Jetty, Spring) also merge the slashes left.
 * Refusing is chosen over rewriting: a client that sends such a path is broken or probing, and a
 * 400 keeps the route decision and the forwarded path the same thing. Spring Security's firewall
 * refuses such paths by default too.
 * <p>
 * What counts is read as widely as any downstream server might: percent-encoding is decoded up
 * to three times (double encoding), {@code \} separates segments as {@code /} does, a {@code ;}
 * starts path parameters that Tomcat, Jetty and Spring strip ({@code ..;}), a NUL ends a segment,
 * and a segment of dots only is a dot segment however many ({@code ...}, which some servers read
 * as {@code ..}). A path without {@code .} or {@code %} is passed after one scan, which is every
 * request of most APIs.
 */
public class AmbiguousPathFilter implements GlobalFilter, Ordered {

	/**
	 * Order of this filter: just before {@link ApiKeyAuthenticationFilter#KEY_AUTH_FILTER_ORDER},
	 * so a refused path is never authenticated, counted or rate limited.
	 */
	public static final int AMBIGUOUS_PATH_FILTER_ORDER = ApiKeyAuthenticationFilter.KEY_AUTH_FILTER_ORDER - 1;

	private static final byte[] DOT_SEGMENT = body("The request path must not contain '.' or '..' segments, "
			+ "plain or percent-encoded.");

	private static final byte[] EMPTY_SEGMENT = body("The request path must not contain empty segments ('//').");

	private static final byte[] CONTROL_CHARACTER = body("The request path must not contain percent-encoded "
			+ "control characters (%00 to %1F, %7F).");

	private static final byte[] ENCODED_SEPARATOR = body("The request path must not contain a percent-encoded "
			+ "'/' or '\\\\' (%2F, %5C).");

	private static final int MAX_DECODINGS = 3;

	private final boolean allowEncodedSeparators;

	/** Refuses dot segments and percent-encoded separators. */
	public AmbiguousPathFilter() {
		this(false);
	}

	/**
	 * @param allowEncodedSeparators whether a percent-encoded {@code /} or {@code \} may pass
	 * (for APIs whose identifiers contain them, behind downstream servers that do not decode
	 * them into separators); dot segments are refused either way, also across such a separator
	 */
	public AmbiguousPathFilter(boolean allowEncodedSeparators) {
		this.allowEncodedSeparators = allowEncodedSeparators;
	}

	private static byte[] body(String message) {
		return ("{\"error\":\"invalid_path\",\"message\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8);
	}

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
		String rawPath = exchange.getRequest().getURI().getRawPath();
		byte[] refusal = (rawPath != null) ? refusalFor(rawPath) : null;
		if (refusal == null) {
			return chain.filter(exchange);
		}
		return Refusals.afterRequestRead(exchange, () -> refuse(exchange.getResponse(), refusal));
	}

	private byte @Nullable [] refusalFor(String rawPath) {
		Problem problem = problemIn(rawPath);
		if (problem == Problem.DOT_SEGMENT) {
			return DOT_SEGMENT;
		}
		if (problem == Problem.EMPTY_SEGMENT) {
			return EMPTY_SEGMENT;
		}
		if (problem == Problem.CONTROL_CHARACTER) {
			return CONTROL_CHARACTER;
		}
		return (problem == Problem.ENCODED_SEPARATOR && !this.allowEncodedSeparators) ? ENCODED_SEPARATOR : null;
	}

	private static Mono<Void> refuse(ServerHttpResponse response, byte[] body) {
		response.setStatusCode(HttpStatus.BAD_REQUEST);
		response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
		response.getHeaders().setContentLength(body.length);
		response.getHeaders().setCacheControl("no-store");
		return response.writeWith(Mono.just(response.bufferFactory().wrap(body)));
	}

	/** What a downstream server could read differently in this raw (still encoded) path. */
	public static Problem problemIn(String rawPath) {
		// Most paths have nothing to decode, no dots and no empty segment. String.indexOf is
		// vectorised: five scans pass them in about 16 ns here, one loop over their characters in 38.
		boolean decodeOrDots = rawPath.indexOf('.') >= 0 || rawPath.indexOf('%') >= 0;
		if (!decodeOrDots && rawPath.indexOf("//") < 0 && rawPath.indexOf("/;") < 0 && rawPath.indexOf('\\') < 0) {
			return Problem.NONE;
		}
		// Judged before decoding: only literal separators are collapsed when the gateway
		// forwards; an encoded one is the encoded-separator rule's.
		if (hasEmptySegment(rawPath)) {
			return Problem.EMPTY_SEGMENT;
		}
		if (!decodeOrDots) {
			return Problem.NONE;
		}
		boolean encodedSeparator = false;
		String path = rawPath;
		for (int i = 0; i < MAX_DECODINGS && path.indexOf('%') >= 0; i++) {
			String decoded = percentDecoded(path);
			encodedSeparator |= hasSeparator(decoded, path);
			path = decoded;
		}
		int start = 0;
		boolean controlCharacter = false;
		for (int i = 0; i <= path.length(); i++) {
			char c = (i < path.length()) ? path.charAt(i) : '/';
			if (c == '/' || c == '\\') {
				if (isDotsOnly(path, start, i)) {
					return Problem.DOT_SEGMENT;
				}
				start = i + 1;
			}
			else if (c < 0x20 || c == 0x7F) {
				controlCharacter = true;
			}
		}
		if (controlCharacter) {
			return Problem.CONTROL_CHARACTER;
		}
		return encodedSeparator ? Problem.ENCODED_SEPARATOR : Problem.NONE;
	}

	/** Whether decoding turned an escape into a separator: more of them than before. */
	private static boolean hasSeparator(String decoded, String encoded) {
		return separators(decoded) > separators(encoded);
	}

	private static int separators(String path) {
		int count = 0;
		for (int i = 0; i < path.length(); i++) {
			char c = path.charAt(i);
			if (c == '/' || c == '\\') {
				count++;
			}
		}
		return count;
	}

	/**
	 * Whether a segment that a separator follows is empty up to its path parameters. The last
	 * segment is never judged: a trailing slash is an ordinary path, and
	 * {@code /app/;jsessionid=…} still reads as the same route.
	 */
	private static boolean hasEmptySegment(String path) {
		int start = -1;
		for (int i = 0; i < path.length(); i++) {
			char c = path.charAt(i);
			if (c == '/' || c == '\\') {
				if (start >= 0 && (start == i || path.charAt(start) == ';')) {
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
		return AMBIGUOUS_PATH_FILTER_ORDER;
	}

	/** What {@link #problemIn} found. */
	public enum Problem {

		/** Nothing: every server reads the path as the gateway routed it. */
		NONE,

		/** A {@code .} or {@code ..} segment, in any form. */
		DOT_SEGMENT,

		/**
		 * An empty segment ({@code //}, or {@code /;x/}) before the last one, in the path as it
		 * arrived.
		 */
		EMPTY_SEGMENT,

		/**
		 * A percent-encoded control character ({@code %00} to {@code %1F}, {@code %7F}), and no
		 * dot or empty segment. A server written in C takes a NUL for the end of the path, and
		 * others trim or split at line breaks, so {@code /orders/admin%00/1} can be served as
		 * {@code /orders/admin} after matching {@code /orders/**}.
		 */
		CONTROL_CHARACTER,

		/** A percent-encoded {@code /} or {@code \}, and nothing above. */
		ENCODED_SEPARATOR

	}

}
