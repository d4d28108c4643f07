package dev.keyauth.cache;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.resource.DefaultEventLoopGroupProvider;
import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.PromiseCombiner;
import org.jspecify.annotations.Nullable;

/**
 * Gives Lettuce, the Redis client, event loops of the same classes as the gateway's own.
 * <p>
 * Lettuce 6 still asks for Netty's legacy groups ({@code EpollEventLoopGroup},
 * {@code NioEventLoopGroup}), whose loops are subclasses of the {@code SingleThreadIoEventLoop}
 * that Reactor Netty runs the gateway's server and HTTP client on. Every Netty pipeline step
 * asks its channel's loop {@code inEventLoop()}, so with Redis traffic in the same JVM the JIT's
 * type profiles of Netty's hottest methods record two loop classes where a gateway without Redis
 * records one: calls the JIT compiled for one class need a type check for two, and a profile,
 * which names only two classes, has no room left for a third (bench/RESULTS.md, "(3): a seventh
 * look"). Here Lettuce gets a {@link MultiThreadIoEventLoopGroup} with the same I/O handler as the
 * group it asked for (epoll or NIO), so the gateway's and Lettuce's loops are one class. Its loops
 * stay its own threads: sharing the gateway's would tie the Redis connections to the lifecycle of
 * the web server's resources.
 * <p>
 * Any other transport (kqueue, io_uring) is left to Lettuce's own provider.
 */
public final class IoEventLoopGroupProvider implements EventLoopGroupProvider, AutoCloseable {

	private final int threads;

	private final Map<Class<?>, Allocated> groups = new IdentityHashMap<>();

	private @Nullable DefaultEventLoopGroupProvider fallback;

	/** @param threads threads of each group, as Lettuce's {@code ioThreadPoolSize} */
	public IoEventLoopGroupProvider(int threads) {
		this.threads = threads;
	}

	@Override
	@SuppressWarnings("unchecked")
	public synchronized <T extends EventLoopGroup> T allocate(Class<T> type) {
		Transport transport = transportFor(type);
		if (transport == null) {
			return fallback().allocate(type);
		}
		Allocated allocated = this.groups.get(type);
		if (allocated == null) {
			allocated = new Allocated(new MultiThreadIoEventLoopGroup(this.threads,
					new DefaultThreadFactory(transport.threadName(), true), transport.handler()));
			this.groups.put(type, allocated);
		}
		allocated.references++;
		// Lettuce keeps what it gets as an EventLoopGroup and never casts it to the legacy class.
		return (T) allocated.group;
	}

	/**
	 * The I/O handler for the legacy group class Lettuce asked for, and the thread name Lettuce
	 * gives that group's threads (so thread dumps and bench/threads.sh read the same); {@code null}
	 * for another transport.
	 */
	static @Nullable Transport transportFor(Class<?> type) {
		// By name: the epoll classes are optional, and Lettuce asks for epoll only where they are present.
		return switch (type.getName()) {
			case "io.netty.channel.epoll.EpollEventLoopGroup" ->
				new Transport("lettuce-epollEventLoop", EpollIoHandler.newFactory());
			case "io.netty.channel.nio.NioEventLoopGroup" ->
				new Transport("lettuce-nioEventLoop", NioIoHandler.newFactory());
			default -> null;
		};
	}

	record Transport(String threadName, IoHandlerFactory handler) {
	}

	@Override
	public int threadPoolSize() {
		return this.threads;
	}

	@Override
	public synchronized Future<Boolean> release(EventExecutorGroup group, long quietPeriod, long timeout,
			TimeUnit unit) {
		for (Allocated allocated : this.groups.values()) {
			if (allocated.group == group) {
				if (--allocated.references > 0) {
					return GlobalEventExecutor.INSTANCE.newSucceededFuture(true);
				}
				this.groups.values().remove(allocated);
				return asBoolean(allocated.group.shutdownGracefully(quietPeriod, timeout, unit));
			}
		}
		return fallback().release(group, quietPeriod, timeout, unit);
	}

	@Override
	public synchronized Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit unit) {
		// Immediate: the combiner is then usable from whichever thread shuts down.
		PromiseCombiner all = new PromiseCombiner(ImmediateEventExecutor.INSTANCE);
		for (Allocated allocated : this.groups.values()) {
			all.add(allocated.group.shutdownGracefully(quietPeriod, timeout, unit));
		}
		this.groups.clear();
		if (this.fallback != null) {
			all.add(this.fallback.shutdown(quietPeriod, timeout, unit));
		}
		Promise<Void> done = GlobalEventExecutor.INSTANCE.newPromise();
		all.finish(done);
		return asBoolean(done);
	}

	/**
	 * Shuts every group down. Lettuce shuts down only the providers it made itself, so the
	 * application context calls this when it closes.
	 */
	@Override
	public void close() {
		shutdown(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
	}

	/** Lettuce's providers answer {@code true} once a group has terminated. */
	private static Future<Boolean> asBoolean(Future<?> termination) {
		// Not the immediate executor: its promises cannot be waited for from any thread.
		Promise<Boolean> result = GlobalEventExecutor.INSTANCE.newPromise();
		termination.addListener((future) -> result.setSuccess(future.isSuccess()));
		return result;
	}

	private DefaultEventLoopGroupProvider fallback() {
		if (this.fallback == null) {
			this.fallback = new DefaultEventLoopGroupProvider(this.threads);
		}
		return this.fallback;
	}

	private static final class Allocated {

		final MultiThreadIoEventLoopGroup group;

		int references;

		Allocated(MultiThreadIoEventLoopGroup group) {
			this.group = group;
		}

	}

}
