package dev.keyauth.bench.calibration;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/** Adds the {@link WorkFilter} to a gateway started with {@code --bench.work-rounds=N}. */
@AutoConfiguration
@ConditionalOnProperty("bench.work-rounds")
public class WorkFilterAutoConfiguration {

	@Bean
	WorkFilter benchWorkFilter(@Value("${bench.work-rounds}") int rounds) {
		return new WorkFilter(rounds);
	}

}
