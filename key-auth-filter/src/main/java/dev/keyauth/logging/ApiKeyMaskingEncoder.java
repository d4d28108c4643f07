package dev.keyauth.logging;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;

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
 * or include {@code dev/keyauth/logging/masked-console-appender.xml}.
 */
public class ApiKeyMaskingEncoder extends EncoderBase<ILoggingEvent> {

	private Encoder<ILoggingEvent> encoder;

	private Charset charset = StandardCharsets.UTF_8;

	private KeyMasker masker = new KeyMasker(List.of(dev.keyauth.key.ApiKeyFormat.DEFAULT_PREFIX));

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
			addError("ApiKeyMaskingEncoder needs a nested <encoder>");
			return;
		}
		if (!this.encoder.isStarted()) {
			this.encoder.start();
		}
		super.start();
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
