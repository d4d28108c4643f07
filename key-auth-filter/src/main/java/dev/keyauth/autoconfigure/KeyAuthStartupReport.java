package dev.keyauth.autoconfigure;

import io.r2dbc.spi.ConnectionFactoryOptions;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Says in one line at start-up where keys live and what that means for revocation, so nobody
 * runs several instances on a per-instance store or cache without knowing it.
 */
public class KeyAuthStartupReport implements SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(KeyAuthStartupReport.class);

	private final String store;

	private final boolean embedded;

	private final boolean sharedCache;

	KeyAuthStartupReport(@Nullable ConnectionFactoryOptions options, String storeType, boolean sharedCache) {
		this.embedded = options != null && "h2".equals(String.valueOf(options.getValue(ConnectionFactoryOptions.DRIVER)));
		this.store = (options != null) ? describe(options) : storeType;
		this.sharedCache = sharedCache;
	}

	private static String describe(ConnectionFactoryOptions options) {
		String driver = String.valueOf(options.getValue(ConnectionFactoryOptions.DRIVER));
		if ("pool".equals(driver) || "proxy".equals(driver)) {
			driver = String.valueOf(options.getValue(ConnectionFactoryOptions.PROTOCOL));
		}
		Object database = options.getValue(ConnectionFactoryOptions.DATABASE);
		if ("h2".equals(driver)) {
			return "embedded H2 (" + options.getValue(ConnectionFactoryOptions.PROTOCOL) + " " + database + ")";
		}
		Object port = options.getValue(ConnectionFactoryOptions.PORT);
		return "PostgreSQL at " + options.getValue(ConnectionFactoryOptions.HOST) + ((port != null) ? ":" + port : "")
				+ "/" + database;
	}

	String storeDescription() {
		return this.store;
	}

	@Override
	public void afterSingletonsInstantiated() {
		String cache = this.sharedCache
				? "in-process and Redis (shared by every instance; revocations reach every instance in milliseconds)"
				: "in-process only (single instance: revocations are not shared with other gateway instances)";
		logger.info("API keys: stored in " + this.store + (this.embedded ? ", for a single instance" : "")
				+ "; cache " + cache);
	}

}
