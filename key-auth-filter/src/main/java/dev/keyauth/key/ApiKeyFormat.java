package dev.keyauth.key;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * The shape of an API key: {@code <prefix><body><checksum>}.
 * <ul>
 * <li>prefix: configurable, default {@value #DEFAULT_PREFIX}, so leaked keys are recognisable;</li>
 * <li>body: {@value #BODY_LENGTH} base62 characters drawn uniformly from a CSPRNG, 256 bits;</li>
 * <li>checksum: CRC32 of the ASCII bytes of prefix and body, as {@value #CHECKSUM_LENGTH} base62
 * characters, so mistyped or invented keys are refused without any lookup.</li>
 * </ul>
 * The checksum is not a secret and proves nothing about a key's validity; it only lets the gateway
 * (and secret scanners) tell "cannot be one of ours" from "might be one of ours" in a few hundred
 * nanoseconds.
 */
public final class ApiKeyFormat {

	public static final String DEFAULT_PREFIX = "sk_live_";

	/** 43 base62 characters carry 43 * log2(62) = 256.03 bits. */
	public static final int BODY_LENGTH = 43;

	/** 62^6 > 2^32, so any CRC32 value fits. */
	public static final int CHECKSUM_LENGTH = 6;

	/** Prefix + this many body characters identify a key for humans; far too few to guess it. */
	public static final int VISIBLE_BODY_CHARACTERS = 4;

	private static final Pattern VALID_PREFIX = Pattern.compile("[A-Za-z0-9_]{1,32}");

	private final String prefix;

	private final int length;

	private final byte[] prefixBytes;

	public ApiKeyFormat(String prefix) {
		if (prefix == null || !VALID_PREFIX.matcher(prefix).matches()) {
			throw new IllegalArgumentException(
					"API key prefix must be 1 to 32 characters of A-Z, a-z, 0-9 and '_', but was '" + prefix + "'");
		}
		this.prefix = prefix;
		this.prefixBytes = prefix.getBytes(StandardCharsets.US_ASCII);
		this.length = prefix.length() + BODY_LENGTH + CHECKSUM_LENGTH;
	}

	public String prefix() {
		return this.prefix;
	}

	/** Total length of every key of this format. */
	public int length() {
		return this.length;
	}

	/**
	 * Whether {@code candidate} has this format's prefix, length, alphabet and a matching checksum.
	 * Never throws, whatever the input.
	 */
	public boolean isWellFormed(CharSequence candidate) {
		if (candidate == null || candidate.length() != this.length) {
			return false;
		}
		byte[] ascii = new byte[this.length];
		for (int i = 0; i < this.length; i++) {
			char c = candidate.charAt(i);
			if (c > 0x7f) {
				return false;
			}
			ascii[i] = (byte) c;
		}
		return isWellFormed(ascii);
	}

	/**
	 * Whether the ASCII bytes of a candidate key have this format's prefix, length, alphabet and
	 * a matching checksum. Never throws and allocates nothing but the CRC state, whatever the
	 * input: a byte outside ASCII (or the {@code '?'} an encoder puts in place of a character it
	 * cannot encode) is outside the alphabet and fails the check. The authenticator checks the
	 * same bytes it then hashes, so a key is converted once.
	 */
	public boolean isWellFormed(byte[] candidate) {
		if (candidate == null || candidate.length != this.length) {
			return false;
		}
		byte[] expectedPrefix = this.prefixBytes;
		for (int i = 0; i < expectedPrefix.length; i++) {
			if (candidate[i] != expectedPrefix[i]) {
				return false;
			}
		}
		int checksumStart = this.length - CHECKSUM_LENGTH;
		for (int i = expectedPrefix.length; i < checksumStart; i++) {
			if (Base62.digit(candidate[i]) < 0) {
				return false;
			}
		}
		long presented = 0;
		for (int i = checksumStart; i < this.length; i++) {
			int digit = Base62.digit(candidate[i]);
			if (digit < 0) {
				return false;
			}
			presented = presented * Base62.RADIX + digit;
		}
		// One call over the whole array: the JIT's CRC32 intrinsic, instead of one call per byte.
		CRC32 crc = new CRC32();
		crc.update(candidate, 0, checksumStart);
		return presented == crc.getValue();
	}

	/** Appends the checksum to {@code prefix + body}. */
	String withChecksum(String prefixAndBody) {
		CRC32 crc = new CRC32();
		for (int i = 0; i < prefixAndBody.length(); i++) {
			crc.update(prefixAndBody.charAt(i));
		}
		char[] checksum = new char[CHECKSUM_LENGTH];
		Base62.encode(crc.getValue(), checksum, 0, CHECKSUM_LENGTH);
		return prefixAndBody + new String(checksum);
	}

	/** The short, non-secret start shown in listings, e.g. {@code sk_live_Ab3x}. */
	public String visibleStart(String key) {
		return key.substring(0, this.prefix.length() + VISIBLE_BODY_CHARACTERS);
	}

	/**
	 * A regular expression that matches exactly the keys of this format (checksum aside), for
	 * secret scanners and log masking.
	 */
	public String regex() {
		return "(?<![A-Za-z0-9_])" + Pattern.quote(this.prefix) + "[0-9A-Za-z]{" + (BODY_LENGTH + CHECKSUM_LENGTH)
				+ "}(?![A-Za-z0-9_])";
	}

}
