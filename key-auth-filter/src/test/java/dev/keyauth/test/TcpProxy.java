package dev.keyauth.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder on a loopback port in front of a real server (PostgreSQL, Redis), so a test can
 * cut the network to it and restore it without touching the server itself: {@link #cut()}
 * closes every open connection and refuses new ones; {@link #restore()} accepts again on the
 * same port; {@link #blackHoleOpenConnections()} silently drops whatever the connections open at
 * that moment carry, in both directions, while new connections work, and
 * {@link #blackHoleReceiveOnlyConnections} does so for those on which only the server speaks;
 * {@link #partition()} does so for every connection, open or new, until {@link #restore()}.
 * Uses plain threads, never an event loop.
 */
public final class TcpProxy implements AutoCloseable {

	private final String targetHost;

	private final int targetPort;

	private final int port;

	private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

	private final Set<Link> links = ConcurrentHashMap.newKeySet();

	private volatile ServerSocket server;

	private volatile boolean partitioned;

	private volatile Thread acceptor;

	public TcpProxy(String targetHost, int targetPort) {
		this.targetHost = targetHost;
		this.targetPort = targetPort;
		this.server = bindOutsideEphemeralPorts();
		this.port = this.server.getLocalPort();
		accept(this.server);
	}

	/**
	 * A port the kernel never picks as the source port of an outgoing connection. While cut, a
	 * client reconnecting to an ephemeral port with nothing listening on it can be given that
	 * very port as its source and connect to itself (TCP simultaneous open); the port is then
	 * taken and {@link #restore()} cannot listen on it again.
	 */
	private static ServerSocket bindOutsideEphemeralPorts() {
		int lowestEphemeral = 32768;
		try {
			// Not readString: /proc reports a size of its own that is not the content's.
			String range = java.nio.file.Files
				.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
				.get(0);
			lowestEphemeral = Integer.parseInt(range.trim().split("\\s+")[0]);
		}
		catch (IOException | RuntimeException ex) {
			// not Linux: keep the usual lower bound
		}
		int from = Math.max(1024, lowestEphemeral - 12_000);
		if (from >= lowestEphemeral) {
			return bind(0);
		}
		java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
		for (int attempt = 0; attempt < 200; attempt++) {
			try {
				return bind(random.nextInt(from, lowestEphemeral));
			}
			catch (IllegalStateException ex) {
				// taken: try another
			}
		}
		return bind(0);
	}

	public int port() {
		return this.port;
	}

	/** Drops every connection and refuses new ones (connection refused). */
	public void cut() {
		synchronized (this) {
			closeQuietly(this.server);
			for (Socket socket : this.sockets) {
				closeQuietly(socket);
			}
			this.sockets.clear();
		}
		// The port is free only once the acceptor has left accept(): until then the kernel still
		// holds the listening socket, and a restore() straight after this failed to listen
		// ("Address already in use", once in a full run). Outside the lock, which the acceptor
		// takes to register a connection it has just accepted.
		awaitAcceptorExit();
	}

	/**
	 * The open connections stay open but carry nothing any more, like connections to a server
	 * that vanished without a reset or that a middlebox dropped: whatever is sent on them waits
	 * for an answer that never comes. Connections opened afterwards work.
	 */
	public void blackHoleOpenConnections() {
		for (Link link : this.links) {
			link.blackHoled = true;
		}
	}

	/**
	 * Every connection, open or opened from now on, carries nothing until {@link #restore()}: a
	 * server behind a network partition, or one too stuck to answer. New connections are still
	 * accepted (by the proxy, as a stuck server's kernel would), so a client's connect succeeds
	 * and its handshake waits for an answer that never comes. Those opened during the partition
	 * stay dead after it.
	 */
	public void partition() {
		this.partitioned = true;
		blackHoleOpenConnections();
	}

	/**
	 * Like {@link #blackHoleOpenConnections()}, for the open connections on which the client has
	 * sent nothing for {@code quiet} while the server has sent something within it: a Redis
	 * subscription, say, and not an idle connection.
	 */
	public void blackHoleReceiveOnlyConnections(java.time.Duration quiet) {
		long now = System.nanoTime();
		for (Link link : this.links) {
			if (now - link.lastFromClient >= quiet.toNanos() && now - link.lastFromServer < quiet.toNanos()) {
				link.blackHoled = true;
			}
		}
	}

	/** Accepts connections again, and new ones carry their bytes again after a partition. */
	public synchronized void restore() {
		this.partitioned = false;
		if (this.server.isClosed()) {
			this.server = bind(this.port);
			accept(this.server);
		}
	}

	@Override
	public void close() {
		cut();
	}

	private static ServerSocket bind(int port) {
		try {
			ServerSocket server = new ServerSocket();
			server.setReuseAddress(true);
			server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
			return server;
		}
		catch (IOException ex) {
			throw new IllegalStateException("cannot listen on " + port, ex);
		}
	}

	private void awaitAcceptorExit() {
		Thread acceptor = this.acceptor;
		if (acceptor != null && acceptor != Thread.currentThread()) {
			try {
				acceptor.join(5000);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private void accept(ServerSocket server) {
		Thread acceptor = new Thread(() -> {
			while (!server.isClosed()) {
				Socket client;
				try {
					client = server.accept();
				}
				catch (IOException ex) {
					continue; // closed by cut()
				}
				if (!register(server, client)) {
					// Accepted just as cut() closed the server and its connections: the client
					// must see the cut too.
					closeQuietly(client);
					continue;
				}
				if (this.partitioned) {
					// Accepted and never answered: nothing reaches the server either.
					drain(client);
					continue;
				}
				try {
					Socket upstream = new Socket(this.targetHost, this.targetPort);
					client.setTcpNoDelay(true);
					upstream.setTcpNoDelay(true);
					this.sockets.add(upstream);
					Link link = new Link();
					this.links.add(link);
					pipe(client, upstream, link, true);
					pipe(upstream, client, link, false);
				}
				catch (IOException ex) {
					// The target refused: the client sees its connection close.
					closeQuietly(client);
					this.sockets.remove(client);
				}
			}
		}, "tcp-proxy-accept-" + this.port);
		acceptor.setDaemon(true);
		this.acceptor = acceptor;
		acceptor.start();
	}

	/** Tracks {@code client} unless {@code server} has been cut meanwhile. */
	private synchronized boolean register(ServerSocket server, Socket client) {
		if (server != this.server || server.isClosed()) {
			return false;
		}
		this.sockets.add(client);
		return true;
	}

	private void drain(Socket client) {
		Thread thread = new Thread(() -> {
			byte[] buffer = new byte[1024];
			try (InputStream in = client.getInputStream()) {
				while (in.read(buffer) >= 0) {
					// dropped
				}
			}
			catch (IOException ex) {
				// connection closed
			}
			finally {
				closeQuietly(client);
				this.sockets.remove(client);
			}
		}, "tcp-proxy-drain-" + this.port);
		thread.setDaemon(true);
		thread.start();
	}

	private void pipe(Socket from, Socket to, Link link, boolean fromClient) {
		Thread thread = new Thread(() -> {
			byte[] buffer = new byte[16 * 1024];
			try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
				int read;
				while ((read = in.read(buffer)) >= 0) {
					if (fromClient) {
						link.lastFromClient = System.nanoTime();
					}
					else {
						link.lastFromServer = System.nanoTime();
					}
					if (!link.blackHoled) {
						out.write(buffer, 0, read);
						out.flush();
					}
				}
			}
			catch (IOException ex) {
				// connection closed
			}
			finally {
				closeQuietly(from);
				closeQuietly(to);
				this.sockets.remove(from);
				this.sockets.remove(to);
				this.links.remove(link);
			}
		}, "tcp-proxy-pipe-" + this.port);
		thread.setDaemon(true);
		thread.start();
	}

	private static void closeQuietly(AutoCloseable closeable) {
		try {
			closeable.close();
		}
		catch (Exception ex) {
			// already closed
		}
	}

	/** One proxied connection: once black-holed, its bytes are read and dropped. */
	private static final class Link {

		volatile boolean blackHoled;

		volatile long lastFromClient = System.nanoTime();

		volatile long lastFromServer = System.nanoTime();

	}

}
