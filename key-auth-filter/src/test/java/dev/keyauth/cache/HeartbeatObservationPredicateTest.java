package dev.keyauth.cache;

import java.nio.charset.StandardCharsets;

import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.output.ValueOutput;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.tracing.LettuceObservationContext;
import io.micrometer.observation.Observation;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HeartbeatObservationPredicateTest {

	static final String CHANNEL = "keyauth:invalidations";

	final HeartbeatObservationPredicate predicate = new HeartbeatObservationPredicate(CHANNEL);

	@Test
	void aHeartbeatPublishIsNotObserved() {
		String heartbeatChannel = RedisInvalidationBus.heartbeatChannelPrefix(CHANNEL) + "3f2a";
		assertThat(this.predicate.test("lettuce", context(publish(heartbeatChannel)))).isFalse();
	}

	@Test
	void anInvalidationPublishIsObserved() {
		assertThat(this.predicate.test("lettuce", context(publish(CHANNEL)))).isTrue();
	}

	@Test
	void aPublishToAnotherApplicationsChannelIsObserved() {
		assertThat(this.predicate.test("lettuce", context(publish("orders:heartbeat:1")))).isTrue();
		assertThat(this.predicate.test("lettuce", context(publish("keyauth:inv")))).isTrue();
	}

	@Test
	void otherCommandsAreObserved() {
		// A key named like a heartbeat channel, read with GET: still observed.
		CommandArgs<byte[], byte[]> args = new CommandArgs<>(ByteArrayCodec.INSTANCE)
			.addKey(bytes(RedisInvalidationBus.heartbeatChannelPrefix(CHANNEL) + "x"));
		Command<byte[], byte[], byte[]> get = new Command<>(CommandType.GET, new ValueOutput<>(ByteArrayCodec.INSTANCE),
				args);
		assertThat(this.predicate.test("lettuce", context(get))).isTrue();
	}

	@Test
	void otherObservationsAndCommandlessContextsAreObserved() {
		assertThat(this.predicate.test("http.server.requests", new Observation.Context())).isTrue();
		assertThat(this.predicate.test("lettuce", new LettuceObservationContext("Redis"))).isTrue();
	}

	private static Command<byte[], byte[], Long> publish(String channel) {
		CommandArgs<byte[], byte[]> args = new CommandArgs<>(ByteArrayCodec.INSTANCE).addKey(bytes(channel))
			.addValue(bytes("1764756000000"));
		return new Command<>(CommandType.PUBLISH, new IntegerOutput<>(ByteArrayCodec.INSTANCE), args);
	}

	private static LettuceObservationContext context(Command<?, ?, ?> command) {
		LettuceObservationContext context = new LettuceObservationContext("Redis");
		context.setCommand(command);
		return context;
	}

	private static byte[] bytes(String value) {
		return value.getBytes(StandardCharsets.UTF_8);
	}

}
