package dev.keyauth.bench.background;

import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.usage.KeyUsageRecorder;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/** Adds the {@link BackgroundDriver} to a key-auth gateway started with {@code --bench.background-driver=true}. */
@AutoConfiguration
@ConditionalOnProperty("bench.background-driver")
public class BackgroundDriverAutoConfiguration {

	@Bean
	BackgroundDriver benchBackgroundDriver(ApiKeyStore store, ApiKeyLookup lookup,
			ObjectProvider<KeyUsageRecorder> usage, @Value("${bench.background-driver.warm-ups:0}") int warmUps,
			@Value("${bench.background-driver.jdbc:false}") boolean jdbc,
			@Value("${bench.background-driver.period-ms:50}") long periodMillis) {
		// No recorder with keyauth.usage.enabled=false.
		BackgroundDriver driver = new BackgroundDriver(store, lookup,
				usage.getIfAvailable(() -> KeyUsageRecorder.NONE), warmUps);
		driver.setJdbc(jdbc);
		driver.setPeriodMillis(periodMillis);
		return driver;
	}

}
