package dev.keyauth.logging;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.keyauth.key.ApiKeyFormat;

/**
 * Overwrites API keys in text with their visible start followed by {@code *}
 * ({@code sk_live_Ab3x*****...}), in plain text and inside the hex dumps Netty writes for wire logging, where a key is spread over the
 * ASCII column of several rows and would escape a plain pattern.
 */
public final class KeyMasker {

	/** A row of Netty's pretty hex dump: {@code |00000010| 2f 31 ... |/1.1..X-API-Key:|}. */
	private static final Pattern HEX_ROW = Pattern
		.compile("\\|([0-9a-f]{8})\\| ((?:[0-9a-f]{2} ){1,16})(\\s*)\\|(.{16})\\|");

	private final List<String> prefixes;

	private final Pattern key;

	public KeyMasker(List<String> prefixes) {
		this.prefixes = List.copyOf(prefixes);
		String alternatives = String.join("|", prefixes.stream().map(Pattern::quote).toList());
		// group 1: the visible start (prefix + 4 characters). Everything base62 after it goes,
		// whatever its length: a key with a character too many or too few, or glued to other
		// text, is still (almost all of) a secret.
		this.key = Pattern.compile("((?:" + alternatives + ")[0-9A-Za-z]{" + ApiKeyFormat.VISIBLE_BODY_CHARACTERS
				+ "})[0-9A-Za-z]+");
	}

	public String mask(String text) {
		// Hex dumps first, while their rows are intact; both passes keep every character in place.
		String masked = (text.indexOf("+--------+") >= 0) ? maskHexDump(text) : text;
		if (!containsPrefix(masked)) {
			return masked;
		}
		Matcher keys = this.key.matcher(masked);
		if (!keys.find()) {
			return masked;
		}
		char[] out = masked.toCharArray();
		do {
			java.util.Arrays.fill(out, keys.end(1), keys.end(), '*');
		}
		while (keys.find());
		return new String(out);
	}

	private boolean containsPrefix(String text) {
		for (String prefix : this.prefixes) {
			if (text.contains(prefix)) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Finds keys in the ASCII column of a hex dump read as one stream, and overwrites their secret
	 * part in both columns ({@code *} and {@code 2a}).
	 */
	private String maskHexDump(String text) {
		Matcher rows = HEX_ROW.matcher(text);
		List<int[]> spans = new ArrayList<>();
		StringBuilder ascii = new StringBuilder();
		while (rows.find()) {
			int bytes = rows.group(2).length() / 3;
			spans.add(new int[] { rows.start(2), rows.start(4), bytes });
			ascii.append(rows.group(4), 0, bytes);
		}
		if (spans.isEmpty()) {
			return text;
		}
		Matcher keys = this.key.matcher(ascii);
		if (!keys.find()) {
			return text;
		}
		char[] out = text.toCharArray();
		do {
			for (int i = keys.end(1); i < keys.end(); i++) {
				int[] row = spans.get(i / 16);
				int column = i % 16;
				out[row[1] + column] = '*';
				out[row[0] + column * 3] = '2';
				out[row[0] + column * 3 + 1] = 'a';
			}
		}
		while (keys.find());
		return new String(out);
	}

}
