package dev.keyauth.autoconfigure;

import java.time.Clock;

import dev.keyauth.admin.AdminTokenFilter;
import dev.keyauth.admin.ApiKeyAdminHandler;
import dev.keyauth.admin.ApiKeyAdminService;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.store.ApiKeyChangeListener;
import dev.keyauth.store.ApiKeyStore;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.web.server.ConditionalOnManagementPort;
import org.springframework.boot.actuate.autoconfigure.web.server.ManagementPortType;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The admin API's beans in the application context. Its routes live in the management context
 * only ({@link KeyAuthAdminManagementContextConfiguration}), so they are never served on the
 * proxy port.
 */
@AutoConfiguration(after = KeyAuthAutoConfiguration.class)
@ConditionalOnClass(ConditionalOnManagementPort.class)
@ConditionalOnProperty(prefix = "keyauth.admin", name = "enabled", matchIfMissing = true)
@ConditionalOnBean(ApiKeyStore.class)
public final class KeyAuthAdminAutoConfiguration {

	private static final Log logger = LogFactory.getLog(KeyAuthAdminAutoConfiguration.class);

	/** Admin bodies are tiny; deep nesting or huge strings are attacks, not requests. */
	private static final StreamReadConstraints ADMIN_JSON_LIMITS = StreamReadConstraints.builder()
		.maxNestingDepth(16)
		.maxStringLength(16 * 1024)
		.maxNumberLength(32)
		.build();

	@Bean
	@ConditionalOnMissingBean
	ApiKeyAdminService apiKeyAdminService(ApiKeyStore store, ApiKeyGenerator generator, ObjectProvider<Clock> clock,
			ObjectProvider<ApiKeyChangeListener> changes, KeyAuthProperties properties) {
		return new ApiKeyAdminService(store, generator, clock.getIfAvailable(Clock::systemUTC),
				changes.getIfAvailable(() -> ApiKeyChangeListener.NONE), properties.getStore().getTimeout());
	}

	@Bean
	@ConditionalOnMissingBean
	AdminTokenFilter apiKeyAdminTokenFilter(KeyAuthProperties properties) {
		AdminTokenFilter filter = new AdminTokenFilter(properties.getAdmin().getToken());
		if (!filter.isConfigured()) {
			logger.warn("No admin token is configured (KEYAUTH_ADMIN_TOKEN or keyauth.admin.token): "
					+ "the apikeys admin API will refuse every call.");
		}
		return filter;
	}

	@Bean
	@ConditionalOnMissingBean
	ApiKeyAdminHandler apiKeyAdminHandler(ApiKeyAdminService service, KeyAuthProperties properties) {
		JsonMapper strict = JsonMapper
			.builder(JsonFactory.builder()
				.streamReadConstraints(ADMIN_JSON_LIMITS)
				.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
				.build())
			.build();
		return new ApiKeyAdminHandler(service, strict, properties.getAdmin().getMaxScopes(),
				properties.getAdmin().getMaxPageSize(), properties.getAdmin().getRotationGracePeriod());
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnManagementPort(ManagementPortType.SAME)
	static class SameManagementPortWarning {

		SameManagementPortWarning() {
			logger.warn("The apikeys admin API is only served on a management port separate from the proxy "
					+ "port; management.server.port is the proxy port, so it is not served at all.");
		}

	}

}
