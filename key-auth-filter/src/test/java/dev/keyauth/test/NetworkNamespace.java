package dev.keyauth.test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Linux network namespace joined to the test's own by a veth pair, so that a test can run a
 * server behind a link it takes down. While {@link #cut()}, packets on the link are dropped
 * without a reset in either direction, as in a real partition: the test's kernel gets no
 * acknowledgement for what it sends, which a {@link TcpProxy} cannot show (its kernel
 * acknowledges everything it receives, whatever the proxy then does with it).
 * <p>
 * Needs root and iproute2's {@code ip netns}: {@link #available()} says whether this machine has
 * them, and {@link #requiredHere()} whether the run must have them (CI sets
 * {@code KEYAUTH_TEST_NETNS=required}, so that a machine that lost them fails rather than skips).
 */
public final class NetworkNamespace implements AutoCloseable {

	public static final String REQUIRED_VARIABLE = "KEYAUTH_TEST_NETNS";

	private static final String PREFIX = "keyauth-";

	private static final Pattern OURS = Pattern.compile(Pattern.quote(PREFIX) + "(\\d+)-\\d+");

	private static final AtomicInteger COUNTER = new AtomicInteger();

	private static volatile Boolean available;

	private final String name;

	private final String hostSide;

	private final String namespaceSide;

	private final String address;

	private final List<Process> processes = new ArrayList<>();

	private NetworkNamespace(String name, String hostSide, String namespaceSide, String address) {
		this.name = name;
		this.hostSide = hostSide;
		this.namespaceSide = namespaceSide;
		this.address = address;
	}

	/** Whether this process may create network namespaces and veth pairs. */
	public static boolean available() {
		Boolean result = available;
		if (result == null) {
			String probe = PREFIX + ProcessHandle.current().pid() + "-probe";
			result = run("ip", "netns", "add", probe) == 0 && run("ip", "netns", "del", probe) == 0;
			available = result;
		}
		return result;
	}

	/** Whether the environment asks for these tests to run rather than be skipped. */
	public static boolean requiredHere() {
		return "required".equals(System.getenv(REQUIRED_VARIABLE));
	}

	/** Whether {@code program} is on the PATH. */
	public static boolean installed(String program) {
		for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
			if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
				return true;
			}
		}
		return false;
	}

	/**
	 * A new namespace with the link up: this side {@code 10.213.x.1}, the namespace's side
	 * {@link #address()} ({@code 10.213.x.2}). Namespaces left behind by test JVMs that no longer
	 * run are deleted first.
	 */
	public static NetworkNamespace create() {
		deleteAbandoned();
		long pid = ProcessHandle.current().pid();
		int n = COUNTER.incrementAndGet();
		String name = PREFIX + pid + "-" + n;
		// Interface names are limited to 15 characters.
		String tag = Long.toHexString(pid % 0x100000) + "x" + n;
		String hostSide = "ka" + tag + "h";
		String namespaceSide = "ka" + tag + "n";
		check("ip", "netns", "add", name);
		try {
			check("ip", "link", "add", hostSide, "type", "veth", "peer", "name", namespaceSide);
			check("ip", "link", "set", namespaceSide, "netns", name);
			// Up before its address, or the address's route is not there to be checked.
			check("ip", "link", "set", hostSide, "up");
			// A subnet nothing else on this machine routes to: where something does, the route to the
			// namespace's address may lead there instead, and another one is tried.
			String subnet = null;
			for (int attempt = 0; attempt < 20 && subnet == null; attempt++) {
				String candidate = "10.213." + ThreadLocalRandom.current().nextInt(256) + ".";
				if (run("ip", "addr", "add", candidate + "1/30", "dev", hostSide) == 0
						&& routeIsOurs(candidate + "2", hostSide)) {
					subnet = candidate;
				}
				else {
					run("ip", "addr", "flush", "dev", hostSide);
				}
			}
			if (subnet == null) {
				throw new IllegalStateException("no free 10.213.x.0/30 subnet for a test namespace");
			}
			check("ip", "-n", name, "addr", "add", subnet + "2/30", "dev", namespaceSide);
			check("ip", "-n", name, "link", "set", namespaceSide, "up");
			check("ip", "-n", name, "link", "set", "lo", "up");
			return new NetworkNamespace(name, hostSide, namespaceSide, subnet + "2");
		}
		catch (RuntimeException ex) {
			run("ip", "netns", "del", name);
			run("ip", "link", "del", hostSide);
			throw ex;
		}
	}

	private static boolean routeIsOurs(String address, String device) {
		return output("ip", "route", "get", address).contains("dev " + device + " ");
	}

	/** The namespace's address, reachable from the test while the link is up. */
	public String address() {
		return this.address;
	}

	/** Starts {@code command} inside the namespace; it is stopped on {@link #close()}. */
	public Process start(String... command) {
		List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", this.name));
		full.addAll(List.of(command));
		try {
			Process process = new ProcessBuilder(full).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.start();
			this.processes.add(process);
			return process;
		}
		catch (IOException ex) {
			throw new IllegalStateException("cannot start " + full, ex);
		}
	}

	/** Takes the link down: from now on every packet either way is dropped, without a reset. */
	public void cut() {
		check("ip", "-n", this.name, "link", "set", this.namespaceSide, "down");
	}

	/** Brings the link up again; connections the kernels still hold carry on where they were. */
	public void restore() {
		check("ip", "-n", this.name, "link", "set", this.namespaceSide, "up");
	}

	@Override
	public void close() {
		for (Process process : this.processes) {
			process.destroyForcibly();
			try {
				process.waitFor(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		delete(this.name);
		run("ip", "link", "del", this.hostSide);
	}

	private static void deleteAbandoned() {
		for (String line : output("ip", "netns", "list").split("\n")) {
			String name = line.split(" ")[0];
			Matcher matcher = OURS.matcher(name);
			if (matcher.matches() && ProcessHandle.of(Long.parseLong(matcher.group(1))).isEmpty()) {
				delete(name);
			}
		}
	}

	private static void delete(String name) {
		for (String pid : output("ip", "netns", "pids", name).split("\n")) {
			// Anything but a pid (an error, if the namespace is already gone) is not a process.
			if (pid.trim().matches("\\d+")) {
				ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
			}
		}
		// Deleting the namespace deletes the veth pair with it.
		run("ip", "netns", "del", name);
	}

	static void check(String... command) {
		int status = run(command);
		if (status != 0) {
			throw new IllegalStateException(String.join(" ", command) + " failed with status " + status);
		}
	}

	static int run(String... command) {
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.start();
			if (!process.waitFor(30, TimeUnit.SECONDS)) {
				process.destroyForcibly();
				return -1;
			}
			return process.exitValue();
		}
		catch (IOException ex) {
			return -1;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return -1;
		}
	}

	private static String output(String... command) {
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			process.waitFor(30, TimeUnit.SECONDS);
			return text;
		}
		catch (IOException ex) {
			return "";
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return "";
		}
	}

}
