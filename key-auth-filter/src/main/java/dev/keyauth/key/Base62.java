package dev.keyauth.key;

import java.util.Arrays;

/**
 * The 62-character alphabet of keys: digits and ASCII letters only, so a key survives
 * double-click selection, URLs, shells and every header or query encoding unchanged.
 */
final class Base62 {

	static final String ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	static final int RADIX = 62;

	// Indexed by byte value: one load per character instead of three range checks.
	private static final byte[] DIGITS = new byte[256];

	static {
		Arrays.fill(DIGITS, (byte) -1);
		for (int i = 0; i < RADIX; i++) {
			DIGITS[ALPHABET.charAt(i)] = (byte) i;
		}
	}

	private Base62() {
	}

	/** Value of {@code c} in the alphabet, or -1 when {@code c} is not a base62 character. */
	static int digit(char c) {
		if (c >= '0' && c <= '9') {
			return c - '0';
		}
		if (c >= 'A' && c <= 'Z') {
			return c - 'A' + 10;
		}
		if (c >= 'a' && c <= 'z') {
			return c - 'a' + 36;
		}
		return -1;
	}

	/** Value of the byte {@code b} in the alphabet, or -1 when it is not a base62 character. */
	static int digit(byte b) {
		return DIGITS[b & 0xff];
	}

	/** Fixed-width, most significant digit first, left-padded with '0'. */
	static void encode(long value, char[] into, int offset, int width) {
		long remaining = value;
		for (int i = offset + width - 1; i >= offset; i--) {
			into[i] = ALPHABET.charAt((int) (remaining % RADIX));
			remaining /= RADIX;
		}
	}

}
