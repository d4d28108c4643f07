package dev.keyauth.autoconfigure;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import dev.keyauth.admin.AdminTokenFilter;
import dev.keyauth.admin.ApiKeyAdminHandler;
import dev.keyauth.admin.ApiKeyAdminService;
import dev.keyauth.authentication.ApiKeyAuthenticator;
import dev.keyauth.authentication.InvalidApiKeyException;
import dev.keyauth.filter.AmbiguousPathFilter;
import dev.keyauth.filter.ApiKeyAuthenticationFilter;
import dev.keyauth.filter.ApiKeyCredentialConverter;
import dev.keyauth.filter.IdentityHeaders;
import dev.keyauth.filter.RouteKeyAuthPolicies;
import dev.keyauth.filter.RoutePolicyCheck;
import dev.keyauth.filter.KeyAuthFailureHandler;
import dev.keyauth.key.ApiKeyFormat;
import dev.keyauth.key.ApiKeyGenerator;
import dev.keyauth.store.ApiKeyChangeListener;
import dev.keyauth.store.ApiKeyLookup;
import dev.keyauth.store.ApiKeyStore;
import dev.keyauth.cache.EarlierChangesReader;
import dev.keyauth.cache.HeartbeatObservationPredicate;
import dev.keyauth.cache.IoEventLoopGroupProvider;
import dev.keyauth.cache.RedisInvalidationBus;
import dev.keyauth.cache.RedisKeyCache;
import dev.keyauth.cache.TieredApiKeyLookup;
import dev.keyauth.store.SchemaMigration;
import dev.keyauth.ratelimit.ApiKeyRateLimitFilter;
import dev.keyauth.store.ApiKey;
import dev.keyauth.store.RateLimit;
import dev.keyauth.support.RedisConnectionOpener;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.ExtendWith;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultEventLoopGroupProvider;
import io.lettuce.core.resource.EventLoopGroupProvider;
import io.lettuce.core.tracing.LettuceObservationContext;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.mockito.Mockito;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.cloud.gateway.filter.ratelimit.RateLimiter;
import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.data.redis.connection.ReactiveRedisConnection;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.util.ClassUtils;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.context.annotation.Configuration;
import org.springframework.validation.FieldError;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

@ExtendWith(OutputCaptureExtension.class)
class KeyAuthAutoConfigurationTest {

	/** A connection factory that is never connected to: these tests only wire beans. */
	private final ReactiveWebApplicationContextRunner runner = new ReactiveWebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(R2dbcAutoConfiguration.class, JacksonAutoConfiguration.class,
				KeyAuthAutoConfiguration.class, KeyAuthAdminAutoConfiguration.class))
		.withPropertyValues("spring.r2dbc.url=r2dbc:postgresql://127.0.0.1:9/none", "spring.r2dbc.username=nobody",
				"keyauth.store.migrate=false");

	/** The same with Spring Boot's Redis auto-configuration and the local (or container) Redis. */
	private final ReactiveWebApplicationContextRunner withRedis = this.runner
		.withConfiguration(
				AutoConfigurations.of(DataRedisAutoConfiguration.class, DataRedisReactiveAutoConfiguration.class))
		.withPropertyValues("spring.data.redis.url=" + dev.keyauth.test.TestRedis.url());

	private static final List<Class<?>> PLUGIN_BEANS = List.of(ApiKeyFormat.class, ApiKeyGenerator.class,
			ApiKeyStore.class, ApiKeyLookup.class, ApiKeyChangeListener.class, ApiKeyAuthenticator.class, ApiKeyCredentialConverter.class, KeyAuthFailureHandler.class,
			IdentityHeaders.class, ApiKeyAuthenticationFilter.class, AmbiguousPathFilter.class, ApiKeyAdminService.class, AdminTokenFilter.class,
			ApiKeyAdminHandler.class, RouteKeyAuthPolicies.class, RoutePolicyCheck.class, KeyResolver.class);

	@Test
	void createsEveryPieceByDefault() {
		this.runner.run((context) -> {
			for (Class<?> type : PLUGIN_BEANS) {
				assertThat(context).hasSingleBean(type);
			}
			assertThat(context).doesNotHaveBean(SchemaMigration.class);
			assertThat(context.getBean(ApiKeyFormat.class).prefix()).isEqualTo("sk_live_");
		});
	}

	@Test
	void aStoreThatKeepsNoSharedSecretLeavesEachInstanceItsOwnAndSaysSo(CapturedOutput output) {
		// A store of the application's own, without sharedSecret: Redis entries are still
		// signed, with a secret no other instance has.
		this.withRedis.withBean(ApiKeyStore.class, () -> mock(ApiKeyStore.class, Mockito.CALLS_REAL_METHODS))
			.run((context) -> {
				assertThat(context).hasSingleBean(RedisKeyCache.class);
				assertThat(output).contains("The key store keeps no secret shared by the gateway instances; this "
						+ "instance signs its Redis cache entries with a secret of its own");
				// Nor can it report the keys changed recently: the instance says what that leaves.
				assertThat(context).hasSingleBean(EarlierChangesReader.class);
				assertThat(output).contains("Could not read the API keys changed in the last 120 s from the key "
						+ "store (java.lang.UnsupportedOperationException: This key store does not report recent "
						+ "changes); a Redis entry of such a key read before its change is held to its age alone "
						+ "by this instance");
				// Asking again would not help: nothing goes on trying.
				assertThat(output).doesNotContain("trying again in the background");
			});
	}

	@Test
	void aStoredSecretThatIsNotHexadecimalFailsStartUpSayingSo() {
		ApiKeyStore store = mock(ApiKeyStore.class, Mockito.CALLS_REAL_METHODS);
		Mockito.doReturn(Mono.just("not a secret")).when(store).sharedSecret(Mockito.anyString());
		this.withRedis.withBean(ApiKeyStore.class, () -> store)
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasStackTraceContaining("The key store's shared secret is not hexadecimal"));
	}

	@Test
	void thePathCheckCanBeTurnedOffRelaxedOrReplaced() {
		this.runner.withPropertyValues("keyauth.paths.reject-ambiguous=false")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(AmbiguousPathFilter.class)
				.hasSingleBean(ApiKeyAuthenticationFilter.class));
		this.runner.withPropertyValues("keyauth.paths.allow-encoded-separators=true").run((context) -> {
			AmbiguousPathFilter filter = context.getBean(AmbiguousPathFilter.class);
			assertThat(refuses(filter, "/orders/a%2Fb")).isFalse();
			assertThat(refuses(filter, "/orders/..%2Fadmin")).isTrue();
		});
		this.runner.run((context) -> assertThat(refuses(context.getBean(AmbiguousPathFilter.class), "/orders/a%2Fb"))
			.isTrue());
		AmbiguousPathFilter own = new AmbiguousPathFilter();
		this.runner.withBean("ownPathFilter", AmbiguousPathFilter.class, () -> own)
			.run((context) -> assertThat(context.getBean(AmbiguousPathFilter.class)).isSameAs(own));
	}

	private static boolean refuses(AmbiguousPathFilter filter, String rawPath) {
		MockServerWebExchange exchange = MockServerWebExchange
			.from(MockServerHttpRequest.method(HttpMethod.GET, URI.create(rawPath)));
		filter.filter(exchange, (forwarded) -> Mono.empty()).block();
		return exchange.getResponse().getStatusCode() != null;
	}

	@Test
	void withoutRedisEachInstanceCachesAlone() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(TieredApiKeyLookup.class)
				.doesNotHaveBean(RedisKeyCache.class)
				.doesNotHaveBean(RedisInvalidationBus.class)
				.doesNotHaveBean(EarlierChangesReader.class);
		});
	}

	@Test
	void withRedisTheSharedTierAndTheInvalidationBusAreAdded() {
		this.withRedis.run((context) -> assertThat(context).hasSingleBean(RedisKeyCache.class)
			.hasSingleBean(RedisInvalidationBus.class)
			.hasSingleBean(TieredApiKeyLookup.class)
			.hasSingleBean(EarlierChangesReader.class)
			.hasBean("keyAuthLettuceFailFast")
			.hasBean("keyAuthLettuceDeadConnectionDetection"));
		this.runner
			.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class,
					DataRedisReactiveAutoConfiguration.class))
			.withPropertyValues("keyauth.cache.redis.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(RedisKeyCache.class)
				.doesNotHaveBean(RedisInvalidationBus.class)
				.hasSingleBean(TieredApiKeyLookup.class));
	}

	@Test
	void theRedisConnectionIsOpenedAtStartUpAndThePluginsRedisCallsWaitForIt(CapturedOutput output) {
		this.withRedis.run((context) -> assertThat(context.getBean(RedisConnectionOpener.class).isOpen()).isTrue());
		// Rate limits use Redis without the Redis tier too.
		this.withRedis.withPropertyValues("keyauth.cache.redis.enabled=false")
			.run((context) -> assertThat(context).hasSingleBean(RedisConnectionOpener.class));
		// Redis down at start-up: the gateway starts, says so, and keeps trying off the event loops.
		this.withRedis.withPropertyValues("spring.data.redis.url=redis://127.0.0.1:9").run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(RedisConnectionOpener.class).isOpen()).isFalse();
			assertThat(output).contains("Redis is not reachable at start-up")
				.contains("connecting every second in the background");
		});
		// An application's own opener replaces the plugin's.
		RedisConnectionOpener own = new RedisConnectionOpener(mock(ReactiveRedisConnectionFactory.class),
				Duration.ofSeconds(1));
		this.withRedis.withBean("ownOpener", RedisConnectionOpener.class, () -> own)
			.run((context) -> assertThat(context.getBean(RedisConnectionOpener.class)).isSameAs(own));
	}

	@Test
	void theInvalidationHeartbeatsAreLeftOutOfObservations() {
		LettuceObservationContext heartbeat = publishTo(
				RedisInvalidationBus.heartbeatChannelPrefix("acme:invalidations") + "1");
		LettuceObservationContext invalidation = publishTo("acme:invalidations");
		this.withRedis.withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class))
			// A handler, so that the registry observes anything at all.
			.withBean(ObservationHandler.class, () -> (context) -> true)
			.withPropertyValues("keyauth.cache.redis.key-prefix=acme:")
			.run((context) -> {
				assertThat(context).hasSingleBean(HeartbeatObservationPredicate.class);
				ObservationRegistry registry = context.getBean(ObservationRegistry.class);
				assertThat(Observation.createNotStarted("lettuce", () -> heartbeat, registry).isNoop()).isTrue();
				assertThat(Observation.createNotStarted("lettuce", () -> invalidation, registry).isNoop()).isFalse();
			});
		this.runner.run((context) -> assertThat(context).doesNotHaveBean(HeartbeatObservationPredicate.class));
	}

	private static LettuceObservationContext publishTo(String channel) {
		LettuceObservationContext context = new LettuceObservationContext("Redis");
		context.setCommand(new Command<>(CommandType.PUBLISH, new IntegerOutput<>(ByteArrayCodec.INSTANCE),
				new CommandArgs<>(ByteArrayCodec.INSTANCE).addKey(channel.getBytes(StandardCharsets.UTF_8))
					.addValue(new byte[] { '1' })));
		return context;
	}

	@Test
	void aReactiveOnlyRedisConnectionFactoryFailsStartUpWithWhatToDo() {
		// The invalidation bus's heartbeats use the imperative API, which such a factory lacks.
		this.runner.withBean(ReactiveRedisConnectionFactory.class, () -> mock(ReactiveRedisConnectionFactory.class))
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("needs a RedisConnectionFactory")
				.hasMessageContaining("keyauth.cache.redis.enabled=false"));
	}

	@Test
	void lettuceGetsEventLoopsOfTheGatewaysOwnClass() {
		this.withRedis.run((context) -> {
			assertThat(context.getBean(ClientResources.class).eventLoopGroupProvider())
				.isSameAs(context.getBean(IoEventLoopGroupProvider.class));
			// And Lettuce connects and answers over them.
			assertRedisAnswers(context);
		});
	}

	@Test
	void lettuceHasTheKernelCloseConnectionsThatStopAnswering() {
		this.withRedis.withPropertyValues("spring.data.redis.connect-timeout=3s").run((context) -> {
			SocketOptions socket = socketOptions(context);
			assertThat(socket.isEnableTcpUserTimeout()).isTrue();
			assertThat(socket.getTcpUserTimeout().getTcpUserTimeout()).isEqualTo(Duration.ofSeconds(10));
			assertThat(socket.isKeepAlive()).isTrue();
			assertThat(socket.getKeepAlive().getIdle()).isEqualTo(Duration.ofSeconds(15));
			assertThat(socket.getKeepAlive().getInterval()).isEqualTo(Duration.ofSeconds(5));
			assertThat(socket.getKeepAlive().getCount()).isEqualTo(3);
			// Spring Boot's own socket setting is kept.
			assertThat(socket.getConnectTimeout()).isEqualTo(Duration.ofSeconds(3));
			// And Lettuce connects with them.
			assertRedisAnswers(context);
		});
		// An application's own socket options win.
		this.withRedis
			.withBean("ownSocketOptions", LettuceClientOptionsBuilderCustomizer.class,
					() -> (options) -> options.socketOptions(SocketOptions.create()))
			.run((context) -> assertThat(socketOptions(context).isKeepAlive()).isFalse());
	}

	private static void assertRedisAnswers(org.springframework.context.ApplicationContext context) {
		ReactiveRedisConnection connection = context.getBean(ReactiveRedisConnectionFactory.class)
			.getReactiveConnection();
		try {
			assertThat(connection.ping().block(Duration.ofSeconds(5))).isEqualTo("PONG");
		}
		finally {
			connection.close();
		}
	}

	private static SocketOptions socketOptions(org.springframework.context.ApplicationContext context) {
		return context.getBean(LettuceConnectionFactory.class)
			.getClientConfiguration()
			.getClientOptions()
			.orElseThrow()
			.getSocketOptions();
	}

	@Test
	void anApplicationsOwnLettuceEventLoopsWin() {
		EventLoopGroupProvider own = new DefaultEventLoopGroupProvider(1);
		try {
			this.withRedis
				.withBean("ownEventLoops", ClientResourcesBuilderCustomizer.class,
						() -> (builder) -> builder.eventLoopGroupProvider(own))
				.run((context) -> assertThat(context.getBean(ClientResources.class).eventLoopGroupProvider())
					.isSameAs(own));
		}
		finally {
			own.shutdown(0, 1, TimeUnit.SECONDS);
		}
	}

	@Test
	void rateLimitSettingsReachTheLimiterAndTheFilter() {
		ReactiveWebApplicationContextRunner withRateLimits = this.runner
			.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class,
					DataRedisReactiveAutoConfiguration.class, GATEWAY_REDIS_AUTO_CONFIGURATION,
					KeyAuthRateLimitAutoConfiguration.class))
			// Only the gateway's own RedisRateLimiter bean needs it; the plugin does not.
			.withBean(ConfigurationService.class, () -> mock(ConfigurationService.class))
			.withPropertyValues("spring.data.redis.url=" + dev.keyauth.test.TestRedis.url());
		// Defaults: X-RateLimit-* headers on, a tenth of the per-second rate taken from Redis at once.
		withRateLimits.run((context) -> {
			assertThat(context).hasSingleBean(ApiKeyRateLimitFilter.class);
			RateLimitedRequest request = RateLimitedRequest.through(context);
			assertThat(request.headers().containsHeader("X-RateLimit-Remaining")).isTrue();
			assertThat(request.tokensLeftInRedis()).isEqualTo(100 - 10);
		});
		withRateLimits
			.withPropertyValues("keyauth.rate-limit.include-headers=false", "keyauth.rate-limit.local-share=0")
			.run((context) -> {
				RateLimitedRequest request = RateLimitedRequest.through(context);
				assertThat(request.headers().containsHeader("X-RateLimit-Remaining")).isFalse();
				assertThat(request.tokensLeftInRedis()).isEqualTo(100 - 1);
			});
	}

	@Test
	void theGatewaysOwnRateLimiterWaitsForTheRedisConnectionToo() {
		ReactiveWebApplicationContextRunner withGatewayRedis = this.withRedis
			.withConfiguration(AutoConfigurations.of(GATEWAY_REDIS_AUTO_CONFIGURATION,
					KeyAuthGatewayRateLimiterAutoConfiguration.class))
			.withBean(ConfigurationService.class, () -> mock(ConfigurationService.class))
			// Well above what a first script call may take on a slow machine, well below Lettuce's
			// command timeout below.
			.withPropertyValues("keyauth.rate-limit.timeout=2s");
		// Made by the plugin, with the gateway's script, and counting in Redis.
		withGatewayRedis.run((context) -> {
			assertThat(context).hasSingleBean(RedisRateLimiter.class);
			assertThat(context.getBeanFactory().getBeanDefinition("redisRateLimiter").getFactoryBeanName())
				.isEqualTo(KeyAuthGatewayRateLimiterAutoConfiguration.class.getName());
			assertThat(remainingAfterOneRequest(context)).isEqualTo(9);
		});
		// Redis down at start-up: the limiter's call fails at once, on a thread that must not
		// block (the gateway's own bean would connect there, which BlockHound reports), and the
		// gateway's limiter lets the request through as it does for any Redis failure.
		withGatewayRedis.withPropertyValues("spring.data.redis.url=redis://127.0.0.1:9")
			.run((context) -> assertThat(remainingAfterOneRequest(context)).isEqualTo(-1));
		// A Redis that stops answering: the limiter's script ends within keyauth.rate-limit.timeout,
		// not Lettuce's command timeout of a minute, and the request goes through.
		try (dev.keyauth.test.TcpProxy proxy = new dev.keyauth.test.TcpProxy(dev.keyauth.test.TestRedis.host(),
				dev.keyauth.test.TestRedis.port())) {
			withGatewayRedis
				.withPropertyValues("spring.data.redis.url=redis://127.0.0.1:" + proxy.port(),
						"spring.data.redis.timeout=1m")
				.run((context) -> {
					assertThat(remainingAfterOneRequest(context)).isEqualTo(9);
					proxy.blackHoleOpenConnections();
					assertThat(remainingAfterOneRequest(context)).isEqualTo(-1);
				});
		}
		// The application's own limiter, or the gateway's Redis support switched off: nothing.
		RedisRateLimiter own = new RedisRateLimiter(1, 1);
		withGatewayRedis.withBean("ownLimiter", RedisRateLimiter.class, () -> own)
			.run((context) -> assertThat(context.getBean(RedisRateLimiter.class)).isSameAs(own));
		withGatewayRedis.withPropertyValues("spring.cloud.gateway.server.webflux.redis.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(RedisRateLimiter.class));
	}

	/** X-RateLimit-Remaining after one request of a new id on a route allowing bursts of 10. */
	private static long remainingAfterOneRequest(ApplicationContext context) {
		RedisRateLimiter limiter = context.getBean(RedisRateLimiter.class);
		limiter.getConfig().put("limited", new RedisRateLimiter.Config().setReplenishRate(10).setBurstCapacity(10));
		String id = UUID.randomUUID().toString();
		RateLimiter.Response response = Mono.defer(() -> limiter.isAllowed("limited", id))
			.subscribeOn(Schedulers.parallel())
			.block(Duration.ofSeconds(10));
		assertThat(response.isAllowed()).isTrue();
		return Long.parseLong(response.getHeaders().get(RedisRateLimiter.REMAINING_HEADER));
	}

	/** The gateway's own, which provides its rate-limit script (not a public class). */
	private static final Class<?> GATEWAY_REDIS_AUTO_CONFIGURATION = ClassUtils.resolveClassName(
			"org.springframework.cloud.gateway.config.GatewayRedisAutoConfiguration", null);

	/** One request of a key limited to 100/s through the context's rate-limit filter. */
	private record RateLimitedRequest(HttpHeaders headers, long tokensLeftInRedis) {

		static RateLimitedRequest through(ApplicationContext context) {
			UUID id = UUID.randomUUID();
			ApiKey key = new ApiKey(id, "sk_live_abcd", "limited", null, List.of(), Map.of(), Instant.now(), null,
					null, null, null, new RateLimit(100, 100), null, 0);
			MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/x"));
			exchange.getAttributes().put(ApiKeyAuthenticationFilter.AUTHENTICATED_API_KEY_ATTR, key);
			context.getBean(ApiKeyRateLimitFilter.class).filter(exchange, (forwarded) -> Mono.empty())
				.block(Duration.ofSeconds(10));
			String tokens = context.getBean(ReactiveStringRedisTemplate.class).opsForValue()
				.get("keyauth:rl:{key:" + id + "}.tokens")
				.block(Duration.ofSeconds(10));
			return new RateLimitedRequest(exchange.getResponse().getHeaders(), Long.parseLong(tokens));
		}

	}

	@Test
	void theAdminApiCanBeSwitchedOffAlone() {
		this.runner.withPropertyValues("keyauth.admin.enabled=false").run((context) -> {
			assertThat(context).doesNotHaveBean(ApiKeyAdminService.class)
				.doesNotHaveBean(ApiKeyAdminHandler.class)
				.doesNotHaveBean(AdminTokenFilter.class);
			assertThat(context).hasSingleBean(ApiKeyAuthenticationFilter.class);
		});
	}

	@Test
	void disabledMeansNoBeanAtAll() {
		this.runner.withPropertyValues("keyauth.enabled=false").run((context) -> {
			for (Class<?> type : PLUGIN_BEANS) {
				assertThat(context).doesNotHaveBean(type);
			}
		});
	}

	@Test
	void theKeyPrefixIsConfigurable() {
		this.runner.withPropertyValues("keyauth.key.prefix=acme_test_")
			.run((context) -> assertThat(context.getBean(ApiKeyFormat.class).prefix()).isEqualTo("acme_test_"));
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', value = { "keyauth.realm=a\"b|realm|letters, digits, spaces",
			"keyauth.key.prefix=sk-live-|key.prefix|A-Z, a-z, 0-9 and '_'",
			"keyauth.headers.consumer-id=Consumer Id|headers.consumerId|no spaces",
			"keyauth.headers.key-id=X-API-Key|headers.keyId|same header as keyauth.credentials.api-key-header",
			"keyauth.credentials.query-param=a&b|credentials.queryParam|query parameter name",
			"keyauth.store.timeout=0s|store.timeout|must be positive",
			"keyauth.store.retry-after=500ms|store.retryAfter|at least 1s",
			"keyauth.admin.max-page-size=0|admin.maxPageSize|at least 1",
			"keyauth.cache.local.ttl=-1s|cache.local.ttl|must be positive",
			"keyauth.cache.negative-ttl=0s|cache.negativeTtl|must be positive",
			"keyauth.cache.stale-if-error=-1s|cache.staleIfError|zero or positive",
			"keyauth.cache.invalidation.heartbeat-interval=0s|cache.invalidation.heartbeatInterval|must be positive",
			"keyauth.cache.invalidation.unconfirmed-trust=200ms|cache.invalidation.unconfirmedTrust|longer than",
			"keyauth.usage.flush-interval=0s|usage.flushInterval|must be positive",
			"keyauth.rate-limit.local-share=2|rateLimit.localShare|from 0 to 1",
			"keyauth.rate-limit.default-burst=1|rateLimit.defaultBurst|must be 0 (the rate) or from" })
	void aValueThePluginCouldOnlyMisbehaveWithStopsStartUpNamingIt(String property, String field, String reason) {
		String[] settings = property.equals("keyauth.rate-limit.default-burst=1")
				? new String[] { property, "keyauth.rate-limit.default-requests-per-second=5" } : new String[] { property };
		this.runner.withPropertyValues(settings).run((context) -> {
			assertThat(context).hasFailed();
			// Boot's own binding report: which property, and what it must be.
			BindValidationException failure = findCause(context.getStartupFailure(), BindValidationException.class);
			assertThat(failure.getValidationErrors()).singleElement().satisfies((error) -> {
				assertThat(((FieldError) error).getField()).isEqualTo(field);
				assertThat(error.getDefaultMessage()).contains(reason);
			});
		});
	}

	@Test
	void noHeaderToCarryAKeyStopsStartUp() {
		this.runner.withPropertyValues("keyauth.credentials.bearer-header=", "keyauth.credentials.api-key-header=")
			.run((context) -> assertThat(findCause(context.getStartupFailure(), BindValidationException.class)
				.getValidationErrors()
				.getAllErrors()).singleElement()
				.satisfies((error) -> assertThat(error.getDefaultMessage()).contains("no request could ever carry a key")));
	}

	@Test
	void theDefaultsAndADisabledPluginPassValidation() {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		// Off, the plugin reads none of its settings, so none of them can stop start-up.
		this.runner.withPropertyValues("keyauth.enabled=false", "keyauth.cache.local.ttl=-1s")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(ApiKeyAuthenticationFilter.class));
	}

	private static <T extends Throwable> T findCause(Throwable failure, Class<T> type) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (type.isInstance(cause)) {
				return type.cast(cause);
			}
		}
		throw new AssertionError("no " + type.getSimpleName() + " in " + failure);
	}

	@Test
	void noKeyStoreMeansNoStartNotAnOpenGateway() {
		new ReactiveWebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class, KeyAuthAutoConfiguration.class))
			.run((context) -> assertThat(context).hasFailed()
				.getFailure().rootCause().hasMessageContaining("no key store"));
	}

	@Test
	void migratesTheDatabaseOfTheR2dbcUrlAtStartUp() {
		this.runner.withPropertyValues(dev.keyauth.test.TestPostgres.propertyPairs())
			.withPropertyValues("keyauth.store.migrate=true")
			.run((context) -> {
				assertThat(context).hasNotFailed().hasSingleBean(SchemaMigration.class);
				assertThat(context.getBean(SchemaMigration.class).jdbcUrl())
					.isEqualTo(dev.keyauth.test.TestPostgres.jdbcUrl());
			});
	}

	@Test
	void aDatabaseThatCannotBeMigratedStopsStartUp() {
		this.runner.withPropertyValues("keyauth.store.migrate=true")
			.run((context) -> assertThat(context).hasFailed());
	}

	@Test
	void warnsOnceWhenNoAdminTokenIsConfigured(CapturedOutput output) {
		this.runner.run((context) -> assertThat(context.getBean(AdminTokenFilter.class).isConfigured()).isFalse());
		assertThat(output).containsOnlyOnce("No admin token is configured");
	}

	@Test
	void noWarningWithAToken(CapturedOutput output) {
		this.runner.withPropertyValues("keyauth.admin.token=t")
			.run((context) -> assertThat(context.getBean(AdminTokenFilter.class).isConfigured()).isTrue());
		assertThat(output).doesNotContain("No admin token is configured");
	}

	@Nested
	class WhenTheApplicationDefinesItsOwnBeans {

		@Test
		void everyAutoConfiguredBeanBacksOff() {
			KeyAuthAutoConfigurationTest.this.runner.withUserConfiguration(UserBeans.class).run((context) -> {
				UserBeans user = context.getBean(UserBeans.class);
				assertThat(context.getBean(ApiKeyFormat.class)).isSameAs(user.format);
				assertThat(context.getBean(ApiKeyStore.class)).isSameAs(user.store);
				assertThat(context.getBean(ApiKeyAuthenticator.class)).isSameAs(user.authenticator);
				assertThat(context.getBean(ApiKeyCredentialConverter.class)).isSameAs(user.converter);
				assertThat(context.getBean(KeyAuthFailureHandler.class)).isSameAs(user.failureHandler);
				assertThat(context.getBean(IdentityHeaders.class)).isSameAs(user.identityHeaders);
				assertThat(context.getBean(AdminTokenFilter.class)).isSameAs(user.tokenFilter);
				assertThat(context.getBean(KeyResolver.class)).isSameAs(user.keyResolver);
				for (Class<?> type : PLUGIN_BEANS) {
					assertThat(context).hasSingleBean(type);
				}
			});
		}

		@Test
		void anAuthenticatorAloneIsEnoughWithoutADatabase() {
			new ReactiveWebApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class, KeyAuthAutoConfiguration.class))
				.withBean(ApiKeyAuthenticator.class, () -> (key) -> Mono.error(InvalidApiKeyException.INSTANCE))
				.run((context) -> assertThat(context).hasNotFailed().hasSingleBean(ApiKeyAuthenticationFilter.class)
					.doesNotHaveBean(ApiKeyStore.class));
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserBeans {

		final ApiKeyFormat format = new ApiKeyFormat("mine_");

		final ApiKeyStore store = mock(ApiKeyStore.class);

		final ApiKeyAuthenticator authenticator = (key) -> Mono.error(InvalidApiKeyException.INSTANCE);

		final ApiKeyCredentialConverter converter = (exchange) -> Mono.empty();

		final KeyAuthFailureHandler failureHandler = (exchange, failure) -> Mono.empty();

		final IdentityHeaders identityHeaders = new IdentityHeaders("A", "B", "C", true);

		final AdminTokenFilter tokenFilter = new AdminTokenFilter("t");

		final KeyResolver keyResolver = (exchange) -> Mono.just("mine");

		@Bean
		KeyResolver myKeyResolver() {
			return this.keyResolver;
		}

		@Bean
		ApiKeyFormat myFormat() {
			return this.format;
		}

		@Bean
		ApiKeyStore myStore() {
			return this.store;
		}

		@Bean
		ApiKeyAuthenticator myAuthenticator() {
			return this.authenticator;
		}

		@Bean
		ApiKeyCredentialConverter myConverter() {
			return this.converter;
		}

		@Bean
		KeyAuthFailureHandler myFailureHandler() {
			return this.failureHandler;
		}

		@Bean
		IdentityHeaders myIdentityHeaders() {
			return this.identityHeaders;
		}

		@Bean
		AdminTokenFilter myTokenFilter() {
			return this.tokenFilter;
		}

	}

}
