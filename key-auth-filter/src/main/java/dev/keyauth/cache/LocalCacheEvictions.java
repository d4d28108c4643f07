package dev.keyauth.cache;

import dev.keyauth.key.KeyHash;

/** What an instance does with invalidations it receives: evict one key, or everything. */
public interface LocalCacheEvictions {

	void evict(KeyHash hash);

	/**
	 * Some invalidations may have been missed: nothing cached can be trusted any more without
	 * reading it again.
	 */
	void evictAll();

}
