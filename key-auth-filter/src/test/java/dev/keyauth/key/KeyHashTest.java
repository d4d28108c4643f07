package dev.keyauth.key;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class KeyHashTest {

	@Test
	void isTheSha256OfTheWholeKey() {
		// echo -n abc | sha256sum
		assertThat(KeyHash.sha256("abc").toHex())
			.isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	}

	@Test
	void equalHashesAreEqualAndShareAHashCode() {
		KeyHash a = KeyHash.sha256("sk_live_one");
		KeyHash b = KeyHash.fromHex(a.toHex());
		assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
		assertThat(a).isNotEqualTo(KeyHash.sha256("sk_live_two"));
	}

	@Test
	void theDigestIsCopiedInAndOut() {
		KeyHash hash = KeyHash.sha256("k");
		byte[] bytes = hash.toBytes();
		bytes[0] ^= 1;
		assertThat(hash.toBytes()).isNotEqualTo(bytes);
		KeyHash wrapped = KeyHash.fromBytes(bytes);
		bytes[1] ^= 1;
		assertThat(wrapped.toBytes()).isNotEqualTo(bytes);
	}

	@Test
	void toStringRevealsNothing() {
		KeyHash hash = KeyHash.sha256("sk_live_secret");
		assertThat(hash.toString()).doesNotContain(hash.toHex()).doesNotContain("secret");
	}

	@Test
	void onlyThirtyTwoByteDigestsAreAccepted() {
		assertThatIllegalArgumentException().isThrownBy(() -> KeyHash.fromBytes(new byte[31]));
		assertThatIllegalArgumentException().isThrownBy(() -> KeyHash.fromBytes(null));
	}

}
