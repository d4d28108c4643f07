package dev.keyauth.logging;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import org.springframework.boot.logging.logback.StructuredLogEncoder;

/**
 * A Logback encoder that masks API keys in whatever another encoder writes: a pattern layout,
 * Spring Boot's structured JSON, stack traces, wire-log hex dumps. Configure it around the
 * appender's encoder:
 *
 * <pre>
 * &lt;encoder class="dev.keyauth.logging.ApiKeyMaskingEncoder"&gt;
 *   &lt;prefixes&gt;sk_live_,sk_test_&lt;/prefixes&gt;
 *   &lt;encoder class="ch.qos.logback.classic.encoder.PatternLayoutEncoder"&gt;...&lt;/encoder&gt;
 * &lt;/encoder&gt;
 * </pre>
 *
 * or give it a {@code <pattern>} or a {@code <structuredFormat>} instead of the nested encoder,
 * or include {@code dev/keyauth/logging/masked-console-appender.xml}, which follows Spring
 * Boot's {@code logging.structured.format.console} setting.
 */
public class ApiKeyMaskingEncoder extends EncoderBase<ILoggingEvent> {

	private Encoder<ILoggingEvent> encoder;

	private Charset charset = StandardCharsets.UTF_8;

	private KeyMasker masker = new KeyMasker(List.of(dev.keyauth.key.ApiKeyFormat.DEFAULT_PREFIX));

	private String pattern;

	private String structuredFormat;

	/**
	 * Without a nested encoder: the layout pattern of a plain-text encoder.
	 */
	public void setPattern(String pattern) {
		this.pattern = pattern;
	}

	/**
	 * Without a nested encoder: Spring Boot's structured format ({@code ecs}, {@code logstash},
	 * {@code gelf}); when set, lines are JSON instead of the pattern. Empty for plain text.
	 */
	public void setStructuredFormat(String structuredFormat) {
		this.structuredFormat = structuredFormat;
	}

	/** The encoder whose output is masked. */
	public void setEncoder(Encoder<ILoggingEvent> encoder) {
		this.encoder = encoder;
	}

	/** Charset the wrapped encoder writes (UTF-8 unless told otherwise). */
	public void setCharset(Charset charset) {
		this.charset = charset;
	}

	/** Key prefixes to look for, comma-separated. */
	public void setPrefixes(String prefixes) {
		this.masker = new KeyMasker(Arrays.stream(prefixes.split(",")).map(String::strip).filter((p) -> !p.isEmpty())
			.toList());
	}

	@Override
	public void start() {
		if (this.encoder == null) {
			this.encoder = defaultEncoder();
		}
		if (this.encoder == null) {
			addError("ApiKeyMaskingEncoder needs a nested <encoder>, a <pattern> or a <structuredFormat>");
			return;
		}
		if (!this.encoder.isStarted()) {
			this.encoder.start();
		}
		super.start();
	}

	private Encoder<ILoggingEvent> defaultEncoder() {
		if (this.structuredFormat != null && !this.structuredFormat.isBlank()) {
			StructuredLogEncoder structured = new StructuredLogEncoder();
			structured.setContext(getContext());
			structured.setFormat(this.structuredFormat.strip());
			structured.setCharset(this.charset);
			return structured;
		}
		if (this.pattern != null) {
			PatternLayoutEncoder plain = new PatternLayoutEncoder();
			plain.setContext(getContext());
			plain.setPattern(this.pattern);
			plain.setCharset(this.charset);
			return plain;
		}
		return null;
	}

	@Override
	public void stop() {
		if (this.encoder != null) {
			this.encoder.stop();
		}
		super.stop();
	}

	@Override
	public byte[] headerBytes() {
		return mask(this.encoder.headerBytes());
	}

	@Override
	public byte[] encode(ILoggingEvent event) {
		return mask(this.encoder.encode(event));
	}

	@Override
	public byte[] footerBytes() {
		return mask(this.encoder.footerBytes());
	}

	private byte[] mask(byte[] bytes) {
		if (bytes == null || bytes.length == 0) {
			return bytes;
		}
		String text = new String(bytes, this.charset);
		String masked = this.masker.mask(text);
		return (masked.equals(text)) ? bytes : masked.getBytes(this.charset);
	}

}
