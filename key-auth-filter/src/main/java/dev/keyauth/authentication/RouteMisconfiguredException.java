package dev.keyauth.authentication;

/**
 * The route's key-auth settings could not be understood, so no request on it is let through
 * (see {@code RouteKeyAuthPolicy}). The problem is named in the gateway's log when the route is
 * read, not in the response: callers cannot fix it and need not learn the gateway's configuration.
 */
public final class RouteMisconfiguredException extends KeyAuthenticationException {

	public static final RouteMisconfiguredException INSTANCE = new RouteMisconfiguredException();

	private RouteMisconfiguredException() {
		super("the route's key-auth settings are invalid", null);
	}

}
