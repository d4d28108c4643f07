package dev.keyauth.test;

import java.util.concurrent.ScheduledThreadPoolExecutor;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Scheduling a timer task on a {@link ScheduledThreadPoolExecutor}, and removing it when it is
 * cancelled, takes the executor's queue lock for the moment of a heap operation; its own thread
 * releases that lock while it waits for the next task. Every timeout works this way, Reactor's
 * (its schedulers are such executors) and the JDK's {@code CompletableFuture.completeOnTimeout},
 * which bounds each key lookup the in-process cache holds: a lookup that ends first cancels its
 * timer on the event loop it ended on, and may wait that moment for the lock. Internal to the
 * JDK, bounded, and not a blocking call in any sense that matters for an event loop; BlockHound
 * allows {@code take} already, and reports {@code offer} and {@code remove} only when they
 * happen to meet the lock taken.
 */
public class ScheduledExecutorBlockHoundIntegration implements BlockHoundIntegration {

	@Override
	public void applyTo(BlockHound.Builder builder) {
		String queue = ScheduledThreadPoolExecutor.class.getName() + "$DelayedWorkQueue";
		builder.allowBlockingCallsInside(queue, "offer");
		builder.allowBlockingCallsInside(queue, "remove");
	}

}
