package dev.keyauth.test;

import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test during which BlockHound found a blocking call on a non-blocking thread, even one
 * whose error the code under test caught and handled ({@link BlockingCalls}). Registered for
 * every test (junit-platform.properties). A call made by a background thread between two tests
 * fails the next check: whichever test it is charged to, it is a defect.
 */
public class NoBlockingCallsExtension implements AfterEachCallback, AfterAllCallback {

	@Override
	public void afterEach(ExtensionContext context) {
		check();
	}

	@Override
	public void afterAll(ExtensionContext context) {
		check();
	}

	private static void check() {
		List<BlockingCalls.BlockingCall> calls = BlockingCalls.drain();
		if (!calls.isEmpty()) {
			AssertionError failure = new AssertionError(calls.size() + " blocking call(s) on non-blocking threads: "
					+ calls.stream().map(Object::toString).distinct().collect(Collectors.joining("; ")));
			calls.forEach((call) -> failure.addSuppressed(call.error()));
			throw failure;
		}
	}

}
