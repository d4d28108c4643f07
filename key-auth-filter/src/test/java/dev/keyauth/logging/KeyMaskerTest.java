package dev.keyauth.logging;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KeyMaskerTest {

	private final ApiKeyGenerator generator = new ApiKeyGenerator(new ApiKeyFormat("sk_live_"));

	private final KeyMasker masker = new KeyMasker(List.of("sk_live_", "acme_"));

	/** The ASCII column of every hex dump row in {@code text}, read as one stream. */
	static String hexDumpText(String text) {
		Matcher rows = Pattern.compile("\\|[0-9a-f]{8}\\| ((?:[0-9a-f]{2} ){1,16})\\s*\\|(.{16})\\|").matcher(text);
		StringBuilder ascii = new StringBuilder();
		while (rows.find()) {
			ascii.append(rows.group(2), 0, rows.group(1).length() / 3);
		}
		return ascii.toString();
	}

	@Test
	void masksKeysInPlainTextDownToTheirVisibleStart() {
		String key = this.generator.generateKey();
		String other = new ApiKeyGenerator(new ApiKeyFormat("acme_")).generateKey();
		String masked = this.masker.mask("GET /x?api_key=" + key + "&y=1 Authorization: Bearer " + other + "\n" + key);
		assertThat(masked).doesNotContain(key).doesNotContain(other).doesNotContain(key.substring(12));
		assertThat(masked).contains("api_key=" + key.substring(0, 12) + "*****").contains(other.substring(0, 9) + "***");
	}

	@Test
	void masksKeysWithACharacterTooManyOrTooFewOrGluedToOtherText() {
		String key = this.generator.generateKey();
		for (String variant : List.of(key + "x", key.substring(0, key.length() - 1), "token:" + key + "_end",
				"x" + key)) {
			assertThat(this.masker.mask(variant)).doesNotContain(key.substring(12, 40));
		}
	}

	@Test
	void leavesOtherTextAlone() {
		String text = "sk_live_ and sk_test_" + "x".repeat(80) + " and a uuid 6f1c0b0e-1d2e-4f00-8a00-000000000000";
		assertThat(this.masker.mask(text)).isEqualTo(text);
	}

	@Test
	void masksKeysSpreadOverTheRowsOfANettyHexDump() {
		String key = this.generator.generateKey();
		byte[] request = ("GET /echo/x HTTP/1.1\r\nX-API-Key: " + key + "\r\nAuthorization: Bearer " + key + "\r\n\r\n")
			.getBytes(StandardCharsets.US_ASCII);
		String dump = "[id: 0x1] READ: " + request.length + "B\n" + ByteBufUtil.prettyHexDump(Unpooled.wrappedBuffer(request));
		assertThat(hexDumpText(dump)).contains(key);
		String masked = this.masker.mask(dump);
		assertThat(hexDumpText(masked)).doesNotContain(key).doesNotContain(key.substring(12))
			.contains("X-API-Key: " + key.substring(0, 12) + "*****");
		// The hex column is overwritten too: the key cannot be decoded from it.
		assertThat(masked.replaceAll("[^0-9a-f ]", "")).doesNotContain(ByteBufUtil
			.hexDump(key.substring(20, 30).getBytes(StandardCharsets.US_ASCII)).replaceAll("(..)", "$1 ").strip());
	}

}
