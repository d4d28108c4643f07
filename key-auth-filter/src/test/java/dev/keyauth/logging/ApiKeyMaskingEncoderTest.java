package dev.keyauth.logging;

import java.nio.charset.StandardCharsets;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import org.junit.jupiter.api.Test;
import org.springframework.core.env.Environment;
import org.springframework.core.env.StandardEnvironment;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

class ApiKeyMaskingEncoderTest {

	private final String key = new ApiKeyGenerator(new ApiKeyFormat("sk_live_")).generateKey();

	private String encode(ApiKeyMaskingEncoder encoder, String message) {
		LoggerContext context = new LoggerContext();
		context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
		// Spring Boot's logging system puts its Environment there; structured formats read it.
		context.putObject(Environment.class.getName(), new StandardEnvironment());
		encoder.setContext(context);
		encoder.setPrefixes("sk_live_");
		encoder.start();
		Logger logger = context.getLogger("test");
		LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.INFO, message, null, null);
		return new String(encoder.encode(event), StandardCharsets.UTF_8);
	}

	@Test
	void masksPlainTextLines() {
		ApiKeyMaskingEncoder encoder = new ApiKeyMaskingEncoder();
		encoder.setPattern("%level %msg%n");
		String line = encode(encoder, "presented " + this.key);
		assertThat(line).startsWith("INFO presented " + this.key.substring(0, 12) + "*").doesNotContain(this.key);
	}

	@Test
	void writesStructuredJsonWithOneSettingAndMasksItToo() {
		ApiKeyMaskingEncoder encoder = new ApiKeyMaskingEncoder();
		encoder.setPattern("%msg%n");
		encoder.setStructuredFormat("ecs");
		String line = encode(encoder, "presented " + this.key);
		JsonNode json = new JsonMapper().readTree(line);
		assertThat(json.get("message").stringValue()).startsWith("presented " + this.key.substring(0, 12) + "*");
		assertThat(json.has("@timestamp")).isTrue();
		assertThat(line).doesNotContain(this.key);
	}

}
