package dev.keyauth.filter;

import org.jspecify.annotations.Nullable;
import reactor.core.Fuseable;
import reactor.core.publisher.Mono;

/**
 * Reads the value of a {@link Mono} that is already complete (a cache hit, a local rate-limit
 * allowance), so the hot path can act on it with a direct call instead of assembling an
 * operator chain. Anything else (an answer still to come, an empty or failed one) reads as
 * {@code null}, and the caller takes its general path with the same Mono, which then reports
 * the emptiness or the error as usual.
 */
public final class ReadyValues {

	private ReadyValues() {
	}

	/** The value {@code mono} already holds, or {@code null}. */
	public static <T> @Nullable T now(Mono<T> mono) {
		if (!(mono instanceof Fuseable.ScalarCallable<?> scalar)) {
			return null;
		}
		try {
			@SuppressWarnings("unchecked")
			T value = (T) scalar.call();
			return value;
		}
		catch (Exception ex) {
			return null;
		}
	}

}
