package dev.keyauth.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

/**
 * A throwaway PostgreSQL server inside a {@link NetworkNamespace}, so that a test can take the
 * link to it down: the test's PostgreSQL is shared by every test and reached over loopback, which
 * no test may cut. Started from the machine's own server binaries (Debian's
 * {@code /usr/lib/postgresql/<version>/bin}) as the {@code postgres} system user, since the
 * server refuses to run as root, in a data directory of its own that {@link #close()} deletes;
 * trust authentication and no fsync, as nothing in it outlives the test.
 */
public final class NamespacedPostgres implements AutoCloseable {

	private static final Path DEBIAN_VERSIONS = Path.of("/usr/lib/postgresql");

	private final Path bin;

	private final Path directory;

	private final String host;

	private NamespacedPostgres(Path bin, Path directory, String host) {
		this.bin = bin;
		this.directory = directory;
		this.host = host;
	}

	/** Whether this machine has the server binaries, a {@code postgres} user and {@code runuser}. */
	public static boolean available() {
		return binaries() != null && NetworkNamespace.installed("runuser")
				&& NetworkNamespace.run("id", "-u", "postgres") == 0;
	}

	/** The newest installed version's {@code bin} directory that has both the server and initdb. */
	private static @Nullable Path binaries() {
		if (!Files.isDirectory(DEBIAN_VERSIONS)) {
			return null;
		}
		try (Stream<Path> versions = Files.list(DEBIAN_VERSIONS)) {
			return versions.map((version) -> version.resolve("bin"))
				.filter((bin) -> Files.isExecutable(bin.resolve("postgres")) && Files.isExecutable(bin.resolve("initdb")))
				.max(Comparator.comparing((Path bin) -> versionNumber(bin.getParent().getFileName().toString())))
				.orElse(null);
		}
		catch (IOException ex) {
			return null;
		}
	}

	private static int versionNumber(String name) {
		return name.matches("\\d+") ? Integer.parseInt(name) : -1;
	}

	/**
	 * Creates a cluster and starts it inside {@code network}, listening on the namespace's
	 * address; returns once it accepts queries.
	 */
	public static NamespacedPostgres start(NetworkNamespace network) {
		Path bin = binaries();
		if (bin == null) {
			throw new IllegalStateException("no PostgreSQL server binaries under " + DEBIAN_VERSIONS);
		}
		Path directory;
		try {
			directory = Files.createTempDirectory("keyauth-pg-");
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		NamespacedPostgres postgres = new NamespacedPostgres(bin, directory, network.address());
		try {
			Path data = directory.resolve("data");
			NetworkNamespace.check("chown", "postgres:postgres", directory.toString());
			NetworkNamespace.check("runuser", "-u", "postgres", "--", bin.resolve("initdb").toString(), "-D",
					data.toString(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
			// initdb trusts loopback only; the gateway connects from the test's side of the link.
			append(data.resolve("pg_hba.conf"), "host all all 10.213.0.0/16 trust\n");
			network.start("runuser", "-u", "postgres", "--", bin.resolve("postgres").toString(), "-D",
					data.toString(), "-c", "listen_addresses=" + network.address(), "-c", "port=5432", "-c",
					"unix_socket_directories=" + directory, "-c", "fsync=off", "-c", "full_page_writes=off");
			Instances.await(30_000, () -> NetworkNamespace.run(bin.resolve("pg_isready").toString(), "-q", "-h",
					network.address(), "-p", "5432") == 0);
			return postgres;
		}
		catch (RuntimeException | Error ex) {
			postgres.close();
			throw ex;
		}
	}

	private static void append(Path file, String text) {
		try {
			Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/** The server's database {@code postgres}, as Spring's {@code spring.r2dbc.url}. */
	public String r2dbcUrl() {
		return "r2dbc:postgresql://" + this.host + ":5432/postgres";
	}

	/** Stops the server at once (its processes are not in the test's namespace) and deletes its data. */
	@Override
	public void close() {
		Path data = this.directory.resolve("data");
		if (Files.exists(data.resolve("postmaster.pid"))) {
			NetworkNamespace.run("runuser", "-u", "postgres", "--", this.bin.resolve("pg_ctl").toString(), "-D",
					data.toString(), "stop", "-m", "immediate", "-w");
		}
		try (Stream<Path> paths = Files.walk(this.directory)) {
			paths.sorted(Comparator.reverseOrder()).forEach((path) -> path.toFile().delete());
		}
		catch (IOException ex) {
			// A directory under the system's temporary files; nothing to undo if it stays.
		}
	}

}
