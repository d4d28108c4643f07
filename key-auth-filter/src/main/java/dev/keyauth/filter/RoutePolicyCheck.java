package dev.keyauth.filter;

import org.springframework.cloud.gateway.event.RefreshRoutesResultEvent;
import org.springframework.cloud.gateway.route.RouteLocator;
import org.springframework.context.ApplicationListener;

/**
 * Reads every route's key-auth settings as soon as the gateway has loaded or refreshed its
 * routes, so that a misconfigured route is reported in the log at start-up (or at the refresh
 * that brought it), not at its first request. The policies read here are the ones the filter
 * then uses: {@link RouteKeyAuthPolicies} keeps them per route object.
 */
public class RoutePolicyCheck implements ApplicationListener<RefreshRoutesResultEvent> {

	private final RouteKeyAuthPolicies policies;

	public RoutePolicyCheck(RouteKeyAuthPolicies policies) {
		this.policies = policies;
	}

	@Override
	public void onApplicationEvent(RefreshRoutesResultEvent event) {
		// The gateway's caching locator publishes this once its cache holds the new routes, so
		// reading them here replays the cache and loads nothing.
		if (event.isSuccess() && event.getSource() instanceof RouteLocator routes) {
			// A failure to read the routes is the gateway's to report, and it does.
			routes.getRoutes().subscribe(this.policies::forRoute, (ex) -> {
			});
		}
	}

}
