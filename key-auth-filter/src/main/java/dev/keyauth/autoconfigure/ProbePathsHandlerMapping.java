package dev.keyauth.autoconfigure;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import reactor.core.publisher.Mono;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.webflux.actuate.endpoint.web.AdditionalHealthEndpointPathsWebFluxHandlerMapping;
import org.springframework.core.Ordered;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.reactive.result.method.RequestMappingInfo;
import org.springframework.web.reactive.result.method.RequestMappingInfoHandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.pattern.PathPattern;

/**
 * Spring Boot's mapping of the liveness and readiness probes on the proxy port ({@code /livez},
 * {@code /readyz}, which the plugin turns on with
 * {@code management.endpoint.health.probes.add-additional-paths}), asked only about the paths
 * it can map.
 * <p>
 * Boot orders that mapping ahead of the gateway's route mapping, so every proxied request was
 * first matched against its request conditions (path patterns, method, the {@code Accept}
 * header against what it produces): about a microsecond per request in the profile of the
 * running gateway, none of which the gateway without the plugin pays. A look at the start of the
 * path now answers "not mine" for every other request; the probe paths themselves are mapped by
 * Boot exactly as before.
 */
final class ProbePathsHandlerMapping implements HandlerMapping, Ordered {

	private final RequestMappingInfoHandlerMapping delegate;

	// The literal beginning of each of the delegate's patterns, up to its first variable.
	private final String[] prefixes;

	ProbePathsHandlerMapping(RequestMappingInfoHandlerMapping delegate) {
		this.delegate = delegate;
		this.prefixes = literalPrefixes(delegate);
	}

	/**
	 * Wraps Boot's additional health paths mapping of the context it is registered in, once that
	 * mapping has registered its paths.
	 */
	static BeanPostProcessor wrapping() {
		return new BeanPostProcessor() {
			@Override
			public Object postProcessAfterInitialization(Object bean, String beanName) {
				return (bean instanceof AdditionalHealthEndpointPathsWebFluxHandlerMapping mapping)
						? new ProbePathsHandlerMapping(mapping) : bean;
			}
		};
	}

	private static String[] literalPrefixes(RequestMappingInfoHandlerMapping mapping) {
		Set<String> prefixes = new LinkedHashSet<>();
		for (RequestMappingInfo info : mapping.getHandlerMethods().keySet()) {
			for (PathPattern pattern : info.getPatternsCondition().getPatterns()) {
				String text = pattern.getPatternString();
				int variable = indexOfAny(text, "{*?");
				if (variable < 0) {
					prefixes.add(text);
					continue;
				}
				// "/readyz/{*path}" maps "/readyz" too: a capture of the rest may be empty,
				// slash included.
				String literal = text.substring(0, variable);
				prefixes.add(literal.endsWith("/") ? literal.substring(0, literal.length() - 1) : literal);
			}
		}
		return prefixes.toArray(String[]::new);
	}

	private static int indexOfAny(String text, String chars) {
		for (int i = 0; i < text.length(); i++) {
			if (chars.indexOf(text.charAt(i)) >= 0) {
				return i;
			}
		}
		return -1;
	}

	@Override
	public Mono<Object> getHandler(ServerWebExchange exchange) {
		String path = exchange.getRequest().getPath().pathWithinApplication().value();
		for (String prefix : this.prefixes) {
			if (path.startsWith(prefix)) {
				return this.delegate.getHandler(exchange);
			}
		}
		return Mono.empty();
	}

	@Override
	public int getOrder() {
		return this.delegate.getOrder();
	}

	@Override
	public String toString() {
		return "ProbePathsHandlerMapping" + List.of(this.prefixes) + " of " + this.delegate;
	}

}
