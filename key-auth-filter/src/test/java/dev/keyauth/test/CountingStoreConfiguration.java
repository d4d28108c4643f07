package dev.keyauth.test;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import dev.keyauth.key.KeyHash;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.ApiKeyRotation;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.store.KeyChange;
import dev.keyauth.store.NewApiKey;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Counts the key lookups that reach the real store (PostgreSQL), so tests can prove what the
 * cache tiers spare it. The store itself is untouched: every call still goes to the database.
 */
@Configuration(proxyBeanMethods = false)
public class CountingStoreConfiguration {

	@Bean
	static BeanPostProcessor countingApiKeyStore() {
		return new BeanPostProcessor() {
			@Override
			public Object postProcessAfterInitialization(Object bean, String beanName) {
				return (bean instanceof ApiKeyStore store && !(bean instanceof CountingApiKeyStore))
						? new CountingApiKeyStore(store) : bean;
			}
		};
	}

	/** Delegates everything, counting lookups by hash. */
	public static final class CountingApiKeyStore implements ApiKeyStore {

		private final ApiKeyStore delegate;

		private final AtomicInteger lookups = new AtomicInteger();

		CountingApiKeyStore(ApiKeyStore delegate) {
			this.delegate = delegate;
		}

		public int lookups() {
			return this.lookups.get();
		}

		@Override
		public Mono<ApiKey> findByHash(KeyHash hash) {
			return Mono.defer(() -> {
				this.lookups.incrementAndGet();
				return this.delegate.findByHash(hash);
			});
		}

		@Override
		public Mono<String> sharedSecret(String candidate) {
			return this.delegate.sharedSecret(candidate);
		}

		@Override
		public Flux<KeyChange> changedSince(Instant since, int limit) {
			return this.delegate.changedSince(since, limit);
		}

		@Override
		public Mono<KeyHash> findHashById(UUID id) {
			return this.delegate.findHashById(id);
		}

		@Override
		public Mono<ApiKey> create(NewApiKey key) {
			return this.delegate.create(key);
		}

		@Override
		public Mono<ApiKey> findById(UUID id) {
			return this.delegate.findById(id);
		}

		@Override
		public Flux<ApiKey> find(@Nullable String consumerId, long offset, int limit) {
			return this.delegate.find(consumerId, offset, limit);
		}

		@Override
		public Mono<ApiKey> revoke(UUID id, Instant at) {
			return this.delegate.revoke(id, at);
		}

		@Override
		public Mono<ApiKey> update(ApiKey key, Instant at) {
			return this.delegate.update(key, at);
		}

		@Override
		public Mono<ApiKey> setDisabled(UUID id, @Nullable Instant disabledAt, Instant at) {
			return this.delegate.setDisabled(id, disabledAt, at);
		}

		@Override
		public Mono<ApiKeyRotation> rotate(UUID previousId, Instant expiresBy, NewApiKey successor, Instant at) {
			return this.delegate.rotate(previousId, expiresBy, successor, at);
		}

		@Override
		public Flux<KeyHash> revokeAll(String consumerId, Instant at) {
			return this.delegate.revokeAll(consumerId, at);
		}

		@Override
		public Mono<Void> recordUsage(java.util.Collection<dev.keyauth.store.KeyUsage> usage) {
			return this.delegate.recordUsage(usage);
		}

	}

}
