package dev.keyauth.filter;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.cloud.gateway.event.RefreshRoutesResultEvent;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.route.RouteLocator;
import org.springframework.context.ApplicationListener;

/**
 * Reads every route's key-auth settings as soon as the gateway has loaded or refreshed its
 * routes, so that a misconfigured route is reported in the log at start-up (or at the refresh
 * that brought it), not at its first request. The policies read here are the ones the filter
 * then uses: {@link RouteKeyAuthPolicies} keeps them per route object. It also warns of a route
 * that asks for more than the route its paths reach with a trailing slash added or taken away
 * ({@link TrailingSlashCheck}).
 */
public class RoutePolicyCheck implements ApplicationListener<RefreshRoutesResultEvent> {

	private static final Log logger = LogFactory.getLog(RoutePolicyCheck.class);

	private final RouteKeyAuthPolicies policies;

	/** The route-spelling warnings of the last refresh (only those the routes still earn). */
	private Set<String> warned = Set.of();

	public RoutePolicyCheck(RouteKeyAuthPolicies policies) {
		this.policies = policies;
	}

	@Override
	public void onApplicationEvent(RefreshRoutesResultEvent event) {
		// The gateway's caching locator publishes this once its cache holds the new routes, so
		// reading them here replays the cache and loads nothing.
		if (event.isSuccess() && event.getSource() instanceof RouteLocator routes) {
			// A failure to read the routes is the gateway's to report, and it does.
			routes.getRoutes().doOnNext(this.policies::forRoute).collectList().subscribe(this::checkSpellings, (ex) -> {
			});
		}
	}

	private synchronized void checkSpellings(List<Route> routes) {
		try {
			Set<String> warnings = new LinkedHashSet<>(TrailingSlashCheck.warnings(routes, this.policies::forRoute));
			// A discovery client refreshes the routes at each of its heartbeats; a warning is
			// worth one line per appearance, not one per refresh.
			for (String warning : warnings) {
				if (!this.warned.contains(warning)) {
					logger.warn(warning);
				}
			}
			this.warned = warnings;
		}
		catch (RuntimeException ex) {
			// Advice only: the routes work as configured whatever happens here.
			logger.warn("Could not compare the routes' Path patterns: " + ex);
		}
	}

}
