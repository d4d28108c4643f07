package dev.keyauth.key;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * Creates new keys and key ids from a CSPRNG.
 * <p>
 * Uses a DRBG instance rather than the platform default: the default {@code NativePRNG} reads
 * {@code /dev/urandom} through a file stream on every call, which is a blocking call wherever it
 * runs; a DRBG is seeded once (here, at construction) and then pure computation.
 */
public final class ApiKeyGenerator {

	private final ApiKeyFormat format;

	private final SecureRandom random;

	public ApiKeyGenerator(ApiKeyFormat format) {
		this(format, drbg());
	}

	public ApiKeyGenerator(ApiKeyFormat format, SecureRandom random) {
		this.format = format;
		this.random = random;
		// A DRBG seeds itself lazily, from the OS entropy source, on its first use. Draw once
		// here, at start-up, so that read never happens on an event-loop thread later.
		random.nextInt();
	}

	private static SecureRandom drbg() {
		try {
			return SecureRandom.getInstance("DRBG");
		}
		catch (NoSuchAlgorithmException ex) {
			return new SecureRandom();
		}
	}

	public ApiKeyFormat format() {
		return this.format;
	}

	/** A new key: prefix, 43 uniformly random base62 characters, checksum. */
	public String generateKey() {
		StringBuilder key = new StringBuilder(this.format.length());
		key.append(this.format.prefix());
		for (int i = 0; i < ApiKeyFormat.BODY_LENGTH; i++) {
			// nextInt(bound) rejects out-of-range draws, so every character is exactly uniform.
			key.append(Base62.ALPHABET.charAt(this.random.nextInt(Base62.RADIX)));
		}
		return this.format.withChecksum(key.toString());
	}

	/** A random (version 4) UUID drawn from the same generator. */
	public UUID generateId() {
		byte[] bytes = new byte[16];
		this.random.nextBytes(bytes);
		bytes[6] = (byte) ((bytes[6] & 0x0f) | 0x40);
		bytes[8] = (byte) ((bytes[8] & 0x3f) | 0x80);
		long msb = 0;
		long lsb = 0;
		for (int i = 0; i < 8; i++) {
			msb = (msb << 8) | (bytes[i] & 0xff);
			lsb = (lsb << 8) | (bytes[i + 8] & 0xff);
		}
		return new UUID(msb, lsb);
	}

}
