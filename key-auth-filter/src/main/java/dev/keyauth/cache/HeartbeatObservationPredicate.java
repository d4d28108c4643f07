package dev.keyauth.cache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.tracing.LettuceObservationContext;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationPredicate;

/**
 * Keeps the invalidation bus's heartbeats out of the application's observations.
 * <p>
 * Spring Boot observes every Lettuce command when an {@code ObservationRegistry} is present: a
 * {@code lettuce} timer and long-task timer per command and, with a tracer, a span. Five
 * heartbeats a second per instance would be most of those: a span stream nobody asked for, and
 * Redis command timings dominated by the plugin's own plumbing. They also cost: observing them
 * kept the JIT compiling Micrometer's code (which every request's own observations run through)
 * for minutes after start, and took a quarter of an idle key-auth gateway's CPU and up to 3% of
 * its CPU per request under load (bench/RESULTS.md, "an eleventh look"). Every other Redis command,
 * the plugin's cache reads and rate-limit calls included, is observed as before.
 * <p>
 * A heartbeat is recognised by what it is, a {@code PUBLISH} to a channel under
 * {@link RedisInvalidationBus#heartbeatChannelPrefix}; the test costs one type check for any
 * other observation.
 */
public class HeartbeatObservationPredicate implements ObservationPredicate {

	private final byte[] channelPrefix;

	/** @param invalidationChannel the channel the invalidation bus publishes invalidations to */
	public HeartbeatObservationPredicate(String invalidationChannel) {
		this.channelPrefix = RedisInvalidationBus.heartbeatChannelPrefix(invalidationChannel)
			.getBytes(StandardCharsets.UTF_8);
	}

	@Override
	public boolean test(String name, Observation.Context context) {
		if (!(context instanceof LettuceObservationContext lettuce) || !lettuce.hasCommand()) {
			return true;
		}
		RedisCommand<?, ?, ?> command = lettuce.getRequiredCommand();
		if (command.getType() != CommandType.PUBLISH) {
			return true;
		}
		CommandArgs<?, ?> args = command.getArgs();
		ByteBuffer channel = (args != null) ? args.getFirstEncodedKey() : null;
		return channel == null || !startsWith(channel, this.channelPrefix);
	}

	private static boolean startsWith(ByteBuffer buffer, byte[] prefix) {
		if (buffer.remaining() < prefix.length) {
			return false;
		}
		int start = buffer.position();
		for (int i = 0; i < prefix.length; i++) {
			if (buffer.get(start + i) != prefix[i]) {
				return false;
			}
		}
		return true;
	}

}
