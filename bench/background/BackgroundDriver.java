package dev.keyauth.bench.background;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.KeyUsage;
import dev.keyauth.store.NewApiKey;
import dev.keyauth.usage.KeyUsageRecorder;
import reactor.core.Fuseable;
import reactor.core.publisher.Mono;

import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;

/**
 * Benchmark control only (bench/background.sh), never part of the product: makes a gateway with
 * key auth on do the plugin's background I/O without authenticating any request.
 * <p>
 * Every 50 ms, from a thread of its own, it looks one key up through the plugin's own lookup (an
 * in-process hit, whose refresh-ahead reads the key again through Redis and PostgreSQL about once
 * a minute, as a busy key's does) and counts a use of it through the plugin's own recorder (so the
 * usage flush writes to PostgreSQL every 30 s). With the invalidation heartbeats, which run anyway,
 * that is the background work of a key-auth gateway under load. Requests sent to a route that opts
 * out of key auth then measure what that work costs the request path without the filter's
 * per-request work.
 */
public class BackgroundDriver implements ApplicationListener<ApplicationReadyEvent>, AutoCloseable {

	private final ApiKeyStore store;

	private final ApiKeyLookup lookup;

	private final KeyUsageRecorder usage;

	private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor((task) -> {
		Thread thread = new Thread(task, "bench-background-driver");
		thread.setDaemon(true);
		return thread;
	});

	private final int warmUps;

	/**
	 * @param warmUps how many times to run the background paths (a lookup through Redis and
	 * PostgreSQL, a usage write) at start-up, before any request: 0 for none
	 */
	public BackgroundDriver(ApiKeyStore store, ApiKeyLookup lookup, KeyUsageRecorder usage, int warmUps) {
		this.store = store;
		this.lookup = lookup;
		this.usage = usage;
		this.warmUps = warmUps;
	}

	private boolean jdbc;

	private long periodMillis = 50;

	/**
	 * How often the lookup and the use are driven; 0 for never, which leaves only what happens at
	 * start-up (storing the driver's key, the warm-ups): what it costs to have used R2DBC at all.
	 */
	public void setPeriodMillis(long periodMillis) {
		this.periodMillis = periodMillis;
	}

	/**
	 * Instead of the plugin's lookup and recorder, write a usage update every 30 s over JDBC (the
	 * PostgreSQL driver Flyway brings; the database of KEYAUTH_DB_URL) from this driver's own
	 * thread: the same database work with none of R2DBC's Reactor and Netty code.
	 */
	public void setJdbc(boolean jdbc) {
		this.jdbc = jdbc;
	}

	@Override
	public void onApplicationEvent(ApplicationReadyEvent event) {
		if (this.jdbc) {
			startJdbc(System.getenv("KEYAUTH_DB_URL").replaceFirst("^r2dbc:", "jdbc:"));
			return;
		}
		// The question this answers: does background I/O cost the request path less when its
		// code paths have run before the request path is compiled?
		for (int i = 0; i < this.warmUps; i++) {
			this.lookup.findByHash(KeyHash.sha256("bench-warm-up-" + UUID.randomUUID())).block();
			this.store.recordUsage(List.of(new KeyUsage(UUID.randomUUID(), 1, Instant.now()))).block();
		}
		KeyHash hash = createKey().hash();
		if (this.periodMillis <= 0) {
			return;
		}
		this.timer.scheduleAtFixedRate(() -> {
			Mono<ApiKey> found = this.lookup.findByHash(hash);
			// A hit is read as the filter reads it, without subscribing: no Reactor subscriber the
			// plugin itself would not create.
			if (found instanceof Fuseable.ScalarCallable<?> ready) {
				count(ready);
			}
			else {
				found.subscribe((key) -> this.usage.record(key.id()), (ex) -> {
				});
			}
		}, 0, this.periodMillis, TimeUnit.MILLISECONDS);
	}

	private void startJdbc(String url) {
		UUID id = createKey().id();
		java.util.Properties properties = new java.util.Properties();
		properties.setProperty("user", "postgres");
		this.timer.scheduleAtFixedRate(() -> {
			try (java.sql.Connection connection = new org.postgresql.Driver().connect(url, properties);
					java.sql.PreparedStatement update = connection.prepareStatement(
							"UPDATE keyauth_api_keys SET request_count = request_count + ?, last_used_at = ? WHERE id = ?")) {
				update.setLong(1, 600);
				update.setObject(2, java.time.OffsetDateTime.now());
				update.setObject(3, id);
				update.executeUpdate();
			}
			catch (java.sql.SQLException ex) {
				// The next tick tries again.
			}
		}, 30, 30, TimeUnit.SECONDS);
	}

	/** The driver's own key, stored before it starts: a busy key's lookups need a found key. */
	private NewApiKey createKey() {
		UUID id = UUID.randomUUID();
		NewApiKey key = new NewApiKey(id, KeyHash.sha256("bench-background-" + id), "sk_live_bg", "bench-background",
				null, List.of(), Map.of(), Instant.now(), null);
		this.store.create(key).block();
		return key;
	}

	private void count(Fuseable.ScalarCallable<?> ready) {
		try {
			if (ready.call() instanceof ApiKey key) {
				this.usage.record(key.id());
			}
		}
		catch (Exception ex) {
			// The lookup failed (store down): nothing to count.
		}
	}

	@Override
	public void close() {
		this.timer.shutdownNow();
	}

}
