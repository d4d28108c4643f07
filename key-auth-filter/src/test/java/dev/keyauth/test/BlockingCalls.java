package dev.keyauth.test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingOperationError;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Keeps every blocking call BlockHound finds, as well as throwing its error as usual.
 * <p>
 * The error alone fails a test only if it reaches the test. Thrown inside a Reactor chain that
 * handles errors, it is handled like any other: the plugin's Redis tier, for one, answers
 * "miss" to any failure, so a Redis call that blocked an event loop would pass unseen.
 * {@link NoBlockingCallsExtension} fails the test during which one was kept.
 */
public class BlockingCalls implements BlockHoundIntegration {

	private static final ConcurrentLinkedQueue<BlockingCall> detected = new ConcurrentLinkedQueue<>();

	@Override
	public void applyTo(BlockHound.Builder builder) {
		builder.blockingMethodCallback((method) -> {
			BlockingOperationError error = new BlockingOperationError(method);
			detected.add(new BlockingCall(Thread.currentThread().getName(), error));
			throw error;
		});
	}

	/** The blocking calls found since the last call, each with where it was made. */
	public static List<BlockingCall> drain() {
		List<BlockingCall> drained = new ArrayList<>();
		BlockingCall call;
		while ((call = detected.poll()) != null) {
			drained.add(call);
		}
		return drained;
	}

	/**
	 * @param thread the thread that blocked
	 * @param error BlockHound's error, thrown where the call was made
	 */
	public record BlockingCall(String thread, BlockingOperationError error) {

		@Override
		public String toString() {
			return this.error.getMessage() + " on " + this.thread;
		}

	}

}
