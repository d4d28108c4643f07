package dev.keyauth.autoconfigure;

import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.reactive.result.method.RequestMappingInfo;
import org.springframework.web.reactive.result.method.RequestMappingInfoHandlerMapping;
import org.springframework.web.server.ServerWebExchange;

import static org.assertj.core.api.Assertions.assertThat;

class ProbePathsHandlerMappingTest {

	@Test
	void onlyRequestsForThePathsTheMappingHasAreMatchedAgainstIt() throws NoSuchMethodException {
		CountingMapping boot = new CountingMapping();
		boot.setOrder(-100);
		Method status = Probe.class.getMethod("status");
		boot.registerMapping(RequestMappingInfo.paths("/livez").methods(RequestMethod.GET).build(), new Probe(),
				status);
		boot.registerMapping(RequestMappingInfo.paths("/readyz/{*path}").methods(RequestMethod.GET).build(),
				new Probe(), status);
		ProbePathsHandlerMapping mapping = new ProbePathsHandlerMapping(boot);
		assertThat(mapping.getOrder()).as("where Boot put it: ahead of the gateway's routes").isEqualTo(-100);

		for (String probe : new String[] { "/livez", "/readyz", "/readyz/db" }) {
			StepVerifier.create(mapping.getHandler(exchange(probe)))
				.expectNextMatches((handler) -> ((HandlerMethod) handler).getMethod().equals(status))
				.verifyComplete();
		}
		assertThat(boot.asked).hasValue(3);

		for (String other : new String[] { "/orders/42", "/", "/live", "/actuator/health" }) {
			StepVerifier.create(mapping.getHandler(exchange(other))).verifyComplete();
		}
		assertThat(boot.asked).as("other paths never reach Boot's matching").hasValue(3);
		// A path that only starts like a probe is Boot's to refuse, as before.
		StepVerifier.create(mapping.getHandler(exchange("/livezz"))).verifyComplete();
		assertThat(boot.asked).hasValue(4);
	}

	@Test
	void theWrappingLeavesEveryOtherBeanAsItIs() {
		Object other = new CountingMapping();
		assertThat(ProbePathsHandlerMapping.wrapping().postProcessAfterInitialization(other, "other")).isSameAs(other);
	}

	private static ServerWebExchange exchange(String path) {
		return MockServerWebExchange.from(MockServerHttpRequest.get(path));
	}

	public static class Probe {

		public String status() {
			return "UP";
		}

	}

	static class CountingMapping extends RequestMappingInfoHandlerMapping {

		final AtomicInteger asked = new AtomicInteger();

		@Override
		protected boolean isHandler(Class<?> beanType) {
			return false;
		}

		@Override
		protected RequestMappingInfo getMappingForMethod(Method method, Class<?> handlerType) {
			return null;
		}

		@Override
		public Mono<HandlerMethod> getHandlerInternal(ServerWebExchange exchange) {
			this.asked.incrementAndGet();
			return super.getHandlerInternal(exchange);
		}

	}

}
