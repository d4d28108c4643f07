package dev.keyauth.filter;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;

import org.springframework.cloud.gateway.handler.predicate.PathRoutePredicateFactory;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PatternParseException;
import org.springframework.web.util.pattern.PathPatternParser;

/**
 * Finds routes that ask for more than the route their paths reach with a trailing slash added
 * (or, for a pattern that ends with one, taken away).
 * <p>
 * Spring Cloud Gateway 5's {@code Path} predicate matches a trailing slash only where its pattern
 * has one (its {@code matchTrailingSlash} argument is read but no longer changes anything: Spring
 * Framework 7's pattern parser dropped the option). So with {@code Path=/orders/admin} asking for
 * a scope ahead of {@code Path=/orders/**}, {@code /orders/admin/} goes to the general route with
 * any key, and many downstream servers (Rails, Express, Spring MVC before 6) serve it as
 * {@code /orders/admin}. A gateway upgraded from Spring Cloud Gateway 4, where the same route
 * matched both, opens that silently. The filter cannot refuse such a path (it is an ordinary one
 * elsewhere), so the routes are reported when they load instead.
 * <p>
 * The check goes by the routes' {@code Path} patterns alone, in the gateway's route order: a
 * route without one is taken to match any path, and other predicates (method, host, headers) are
 * not considered, so it can report a pair they keep apart. It samples each pattern with one
 * value per variable or wildcard, so a pattern whose variables have a regular expression that
 * value does not fit is not checked. It parses patterns as the gateway's {@code Path} predicate
 * does in 5.0 (checked against 5.0.4's bytecode, whose matching never reads the flag); should a
 * later release honour {@code matchTrailingSlash} again, this check has to read it too.
 */
final class TrailingSlashCheck {

	private TrailingSlashCheck() {
	}

	/**
	 * One warning per pattern whose other spelling (a trailing slash added, or taken away)
	 * reaches a route that asks for less.
	 */
	static List<String> warnings(List<Route> routes, Function<Route, RouteKeyAuthPolicy> policies) {
		List<RoutePaths> paths = new ArrayList<>(routes.size());
		for (Route route : routes) {
			paths.add(new RoutePaths(route, patterns(route)));
		}
		List<String> warnings = new ArrayList<>();
		for (RoutePaths demanding : paths) {
			RouteKeyAuthPolicy policy = policies.apply(demanding.route());
			// A misconfigured route refuses everything and is reported already.
			if (!policy.enabled() || policy.misconfiguration() != null || demanding.patterns() == null) {
				continue;
			}
			for (PathPattern pattern : demanding.patterns()) {
				String sample = sample(pattern.getPatternString());
				if (sample == null || !pattern.matches(PathContainer.parsePath(sample))) {
					continue;
				}
				String spelling = sample.endsWith("/") ? sample.substring(0, sample.length() - 1) : sample + "/";
				PathContainer other = PathContainer.parsePath(spelling);
				if (pattern.matches(other)) {
					continue;
				}
				RoutePaths reached = firstMatching(paths, other);
				if (reached != null && reached != demanding && asksForLess(policies.apply(reached.route()), policy)) {
					warnings.add("Route '" + demanding.route().getId() + "' asks for more than route '"
							+ reached.route().getId() + "', which is where '" + spelling + "' goes: the Path pattern '"
							+ pattern.getPatternString() + "' matches '" + sample + "' but not '" + spelling
							+ "', and many servers serve the two alike. Give the route both spellings (or write the "
							+ "pattern with '/**'); Spring Cloud Gateway 5 ignores matchTrailingSlash");
				}
			}
		}
		return warnings;
	}

	/** The first route the gateway would pick for this path, by its Path patterns alone. */
	private static @Nullable RoutePaths firstMatching(List<RoutePaths> paths, PathContainer path) {
		for (RoutePaths candidate : paths) {
			if (candidate.patterns() == null || candidate.patterns().stream().anyMatch((p) -> p.matches(path))) {
				return candidate;
			}
		}
		return null;
	}

	/** Whether a request that {@code demanding} would refuse could pass {@code other}. */
	private static boolean asksForLess(RouteKeyAuthPolicy other, RouteKeyAuthPolicy demanding) {
		if (other.misconfiguration() != null) {
			return false;
		}
		return !other.enabled() || !other.requiredScopes().containsAll(demanding.requiredScopes())
				|| (other.anonymousConsumer() != null && demanding.anonymousConsumer() == null);
	}

	/**
	 * The route's Path patterns, or {@code null} when it has no Path predicate (it then matches
	 * any path as far as this check can tell).
	 */
	private static @Nullable List<PathPattern> patterns(Route route) {
		List<PathRoutePredicateFactory.Config> configs = new ArrayList<>();
		route.getPredicate().accept((predicate) -> {
			if (predicate.getConfig() instanceof PathRoutePredicateFactory.Config config) {
				configs.add(config);
			}
		});
		if (configs.isEmpty()) {
			return null;
		}
		List<PathPattern> patterns = new ArrayList<>();
		for (PathRoutePredicateFactory.Config config : configs) {
			for (String pattern : config.getPatterns()) {
				try {
					patterns.add(PathPatternParser.defaultInstance.parse(pattern));
				}
				catch (PatternParseException ex) {
					// The gateway could not have built this route; nothing to check.
				}
			}
		}
		return patterns;
	}

	/**
	 * A path the pattern matches, with "x" for each variable and wildcard, up to the first
	 * multi-segment wildcard (which matches either spelling anyway); {@code null} for a pattern
	 * with nothing before one.
	 */
	private static @Nullable String sample(String pattern) {
		StringBuilder sample = new StringBuilder();
		for (String segment : pattern.split("/", -1)) {
			if (segment.equals("**") || segment.startsWith("{*")) {
				break;
			}
			if (!sample.isEmpty() || !segment.isEmpty()) {
				sample.append('/');
			}
			sample.append(segment.replaceAll("\\{[^}]*\\}", "x").replace('*', 'x').replace('?', 'x'));
		}
		String path = sample.toString();
		return (path.isEmpty() || path.equals("/")) ? null : path;
	}

	private record RoutePaths(Route route, @Nullable List<PathPattern> patterns) {
	}

}
