package dev.keyauth.cache;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import dev.keyauth.key.KeyHash;

/**
 * HMAC-SHA256 of a Redis key cache entry together with the key hash it is stored under.
 * <p>
 * Every instance acts on what it reads from Redis, so without this anyone who can write to Redis
 * could store a record under the hash of a key of their own making and be let in. With it, that
 * takes the secret too, which lives in PostgreSQL ({@code ApiKeyStore#sharedSecret}). The hash is
 * signed with the entry so that a genuine entry copied to another key's hash does not verify.
 */
final class EntrySignature {

	private static final String ALGORITHM = "HmacSHA256";

	private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

	private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

	private final SecretKeySpec key;

	private final Mac initialised;

	EntrySignature(byte[] secret) {
		if (secret.length < 32) {
			throw new IllegalArgumentException("the signing secret must have at least 256 bits");
		}
		this.key = new SecretKeySpec(secret, ALGORITHM);
		this.initialised = newMac();
	}

	/** URL-safe Base64, so never contains the '.' that separates it from the entry. */
	String sign(KeyHash hash, String entry) {
		return ENCODER.encodeToString(digest(hash, entry));
	}

	boolean matches(KeyHash hash, String entry, String signature) {
		byte[] presented;
		try {
			presented = DECODER.decode(signature);
		}
		catch (IllegalArgumentException ex) {
			return false;
		}
		return MessageDigest.isEqual(presented, digest(hash, entry));
	}

	private byte[] digest(KeyHash hash, String entry) {
		Mac mac = mac();
		// The hash has a fixed length, so hash and record need no separator between them.
		mac.update(hash.toBytes());
		return mac.doFinal(entry.getBytes(StandardCharsets.UTF_8));
	}

	// A Mac is not thread-safe: one per call (on Redis calls only; an in-process hit never gets
	// here), copied from one initialised at start-up rather than looked up and keyed again.
	private Mac mac() {
		try {
			return (Mac) this.initialised.clone();
		}
		catch (CloneNotSupportedException ex) {
			return newMac();
		}
	}

	private Mac newMac() {
		try {
			Mac mac = Mac.getInstance(ALGORITHM);
			mac.init(this.key);
			return mac;
		}
		catch (GeneralSecurityException ex) {
			throw new IllegalStateException("HmacSHA256 is not available", ex);
		}
	}

}
