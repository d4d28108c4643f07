package dev.keyauth.key;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class ApiKeyFormatTest {

	private final ApiKeyFormat format = new ApiKeyFormat("sk_live_");

	private final ApiKeyGenerator generator = new ApiKeyGenerator(this.format);

	@Test
	void generatedKeysHaveThePrefixTheLengthAndAValidChecksum() {
		for (int i = 0; i < 1000; i++) {
			String key = this.generator.generateKey();
			assertThat(key).startsWith("sk_live_").hasSize(8 + 43 + 6).matches("sk_live_[0-9A-Za-z]{49}");
			assertThat(this.format.isWellFormed(key)).isTrue();
		}
	}

	@Test
	void generatedKeysAreDistinct() {
		Set<String> keys = new HashSet<>();
		for (int i = 0; i < 10_000; i++) {
			keys.add(this.generator.generateKey());
		}
		assertThat(keys).hasSize(10_000);
	}

	@Test
	void everyBodyCharacterIsUsedSoTheBodyCarriesFullEntropy() {
		Set<Character> seen = new HashSet<>();
		for (int i = 0; i < 500; i++) {
			String key = this.generator.generateKey();
			for (char c : key.substring(8, 8 + 43).toCharArray()) {
				seen.add(c);
			}
		}
		assertThat(seen).hasSize(62);
	}

	@Test
	void anySingleCharacterChangeIsCaughtByTheChecksum() {
		String key = this.generator.generateKey();
		for (int position = 8; position < key.length(); position++) {
			for (char replacement : Base62.ALPHABET.toCharArray()) {
				if (replacement == key.charAt(position)) {
					continue;
				}
				String typo = key.substring(0, position) + replacement + key.substring(position + 1);
				assertThat(this.format.isWellFormed(typo)).as("typo at %d", position).isFalse();
			}
		}
	}

	@Test
	void swappedNeighboursAreCaughtByTheChecksum() {
		String key = this.generator.generateKey();
		for (int i = 8; i < key.length() - 7; i++) {
			if (key.charAt(i) == key.charAt(i + 1)) {
				continue;
			}
			String swapped = key.substring(0, i) + key.charAt(i + 1) + key.charAt(i) + key.substring(i + 2);
			assertThat(this.format.isWellFormed(swapped)).isFalse();
		}
	}

	@Test
	void malformedCandidatesAreRejectedWithoutThrowing() {
		String key = this.generator.generateKey();
		assertThat(this.format.isWellFormed((CharSequence) null)).isFalse();
		assertThat(this.format.isWellFormed("")).isFalse();
		assertThat(this.format.isWellFormed(key.substring(1))).isFalse();
		assertThat(this.format.isWellFormed(key + "0")).isFalse();
		assertThat(this.format.isWellFormed(key.substring(0, key.length() - 1))).isFalse();
		assertThat(this.format.isWellFormed(key.replace("sk_live_", "sk_test_"))).isFalse();
		assertThat(this.format.isWellFormed(key.substring(0, 20) + "é" + key.substring(21))).isFalse();
		assertThat(this.format.isWellFormed(key.substring(0, 20) + "\u0000" + key.substring(21))).isFalse();
		assertThat(this.format.isWellFormed(key.substring(0, 20) + "-" + key.substring(21))).isFalse();
		assertThat(this.format.isWellFormed(" ".repeat(key.length()))).isFalse();
	}

	@Test
	void theAsciiBytesOfACandidateAreJudgedLikeItsCharacters() {
		String key = this.generator.generateKey();
		assertThat(this.format.isWellFormed(key.getBytes(StandardCharsets.US_ASCII))).isTrue();
		for (int position = 0; position < key.length(); position++) {
			for (char replacement : "0aZ_-?".toCharArray()) {
				String changed = key.substring(0, position) + replacement + key.substring(position + 1);
				assertThat(this.format.isWellFormed(changed.getBytes(StandardCharsets.US_ASCII)))
					.as("%s at %d", replacement, position)
					.isEqualTo(this.format.isWellFormed(changed));
			}
		}
		byte[] highByte = key.getBytes(StandardCharsets.US_ASCII);
		highByte[20] = (byte) (highByte[20] | 0x80);
		assertThat(this.format.isWellFormed(highByte)).isFalse();
		assertThat(this.format.isWellFormed((byte[]) null)).isFalse();
		assertThat(this.format.isWellFormed(new byte[0])).isFalse();
		assertThat(this.format.isWellFormed(key.substring(1).getBytes(StandardCharsets.US_ASCII))).isFalse();
	}

	@Test
	void aValidChecksumUnderAnotherPrefixIsNotOurKey() {
		ApiKeyFormat test = new ApiKeyFormat("sk_test_");
		String testKey = new ApiKeyGenerator(test).generateKey();
		assertThat(test.isWellFormed(testKey)).isTrue();
		assertThat(this.format.isWellFormed(testKey)).isFalse();
		// Same length and alphabet, prefix rewritten: the checksum covers the prefix too.
		assertThat(this.format.isWellFormed("sk_live_" + testKey.substring(8))).isFalse();
	}

	@Test
	void randomStringsOfTheRightShapeAlmostNeverPass() {
		SecureRandom random = new SecureRandom();
		int passed = 0;
		for (int i = 0; i < 100_000; i++) {
			StringBuilder candidate = new StringBuilder("sk_live_");
			for (int j = 0; j < 49; j++) {
				candidate.append(Base62.ALPHABET.charAt(random.nextInt(62)));
			}
			if (this.format.isWellFormed(candidate)) {
				passed++;
			}
		}
		// A 32-bit checksum spread over 62^6 codes: about 1 in 56 billion passes.
		assertThat(passed).isZero();
	}

	@Test
	void visibleStartIsThePrefixAndFourCharacters() {
		String key = this.generator.generateKey();
		assertThat(this.format.visibleStart(key)).isEqualTo(key.substring(0, 12)).startsWith("sk_live_");
	}

	@Test
	void theScannerRegexMatchesKeysAndNotTheirNeighbours() {
		Pattern regex = Pattern.compile(this.format.regex());
		String key = this.generator.generateKey();
		assertThat(regex.matcher("token=" + key + "&x=1").find()).isTrue();
		assertThat(regex.matcher("Authorization: Bearer " + key).find()).isTrue();
		assertThat(regex.matcher("x" + key).find()).isFalse();
		assertThat(regex.matcher(key + "Z").find()).isFalse();
		assertThat(regex.matcher(key.substring(0, key.length() - 1)).find()).isFalse();
	}

	@Test
	void prefixesMustBeSafe() {
		assertThatIllegalArgumentException().isThrownBy(() -> new ApiKeyFormat(""));
		assertThatIllegalArgumentException().isThrownBy(() -> new ApiKeyFormat("sk-live-"));
		assertThatIllegalArgumentException().isThrownBy(() -> new ApiKeyFormat("sk live"));
		assertThatIllegalArgumentException().isThrownBy(() -> new ApiKeyFormat("a".repeat(33)));
		assertThat(new ApiKeyFormat("acme_prod_").length()).isEqualTo(10 + 49);
	}

	@Test
	void generatedIdsAreVersion4Uuids() {
		for (int i = 0; i < 100; i++) {
			assertThat(this.generator.generateId().version()).isEqualTo(4);
			assertThat(this.generator.generateId().variant()).isEqualTo(2);
		}
	}

}
