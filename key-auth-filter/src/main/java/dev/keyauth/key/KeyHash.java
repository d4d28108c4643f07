package dev.keyauth.key;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 of a whole key: the only form in which a key is stored, cached or looked up.
 * <p>
 * A plain (unsalted) SHA-256 is right for keys with 256 bits of entropy: nobody can brute-force
 * the preimage, and an unsalted digest can be looked up by index. {@link #equals} compares in
 * constant time so that no map or cache comparing hashes leaks how many leading bytes matched.
 */
public final class KeyHash {

	public static final int LENGTH = 32;

	private static final HexFormat HEX = HexFormat.of();

	private static final MessageDigest PROTOTYPE = newSha256();

	// Cloning a prototype per thread avoids a provider lookup on every request; the event-loop
	// threads are few and long-lived.
	private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(KeyHash::cloneSha256);

	private final byte[] bytes;

	private final int hash;

	private KeyHash(byte[] bytes) {
		this.bytes = bytes;
		// The digest is uniformly distributed: its first four bytes are as good a hash code as any.
		this.hash = ((bytes[0] & 0xff) << 24) | ((bytes[1] & 0xff) << 16) | ((bytes[2] & 0xff) << 8) | (bytes[3] & 0xff);
	}

	/** Hashes a key. The key is expected to be ASCII (it passed {@link ApiKeyFormat#isWellFormed}). */
	public static KeyHash sha256(String key) {
		return sha256(key.getBytes(StandardCharsets.US_ASCII));
	}

	/** Hashes the ASCII bytes of a key; the array is read, not kept. */
	public static KeyHash sha256(byte[] asciiKey) {
		return new KeyHash(DIGEST.get().digest(asciiKey));
	}

	/** Wraps a stored digest; copies it so the caller cannot change it afterwards. */
	public static KeyHash fromBytes(byte[] digest) {
		if (digest == null || digest.length != LENGTH) {
			throw new IllegalArgumentException("a SHA-256 key hash has 32 bytes");
		}
		return new KeyHash(digest.clone());
	}

	public static KeyHash fromHex(String hex) {
		return fromBytes(HEX.parseHex(hex));
	}

	/** A copy of the 32 digest bytes. */
	public byte[] toBytes() {
		return this.bytes.clone();
	}

	public String toHex() {
		return HEX.formatHex(this.bytes);
	}

	@Override
	public boolean equals(Object other) {
		return other instanceof KeyHash that && MessageDigest.isEqual(this.bytes, that.bytes);
	}

	@Override
	public int hashCode() {
		return this.hash;
	}

	/** Deliberately not the digest: hashes stay out of logs too. */
	@Override
	public String toString() {
		return "KeyHash[sha256]";
	}

	private static MessageDigest newSha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("SHA-256 is required of every Java platform", ex);
		}
	}

	private static MessageDigest cloneSha256() {
		try {
			return (MessageDigest) PROTOTYPE.clone();
		}
		catch (CloneNotSupportedException ex) {
			return newSha256();
		}
	}

}
