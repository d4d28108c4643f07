package dev.keyauth.bench.calibration;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import reactor.core.publisher.Mono;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;

/**
 * Benchmark calibration only (bench/calibrate.sh), never part of the product: a global filter
 * that does a fixed amount of CPU work per request, {@code bench.work-rounds} SHA-256 digests of
 * a 57-byte array (the length of an API key, so one round costs what the plugin's own hash
 * costs), in the same place of the chain as the key-auth filter. Loading gateways that differ
 * only in the number of rounds shows what a known amount of filter work costs in throughput on
 * this machine, and so how much work the 97% target leaves the plugin.
 */
public class WorkFilter implements GlobalFilter, Ordered {

	private static final byte[] INPUT = "sk_live_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
		.getBytes(StandardCharsets.US_ASCII);

	private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(WorkFilter::sha256);

	private final int rounds;

	// Written with every result, so the JIT cannot drop the digests as unused.
	private byte sink;

	public WorkFilter(int rounds) {
		this.rounds = rounds;
	}

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
		MessageDigest digest = DIGEST.get();
		byte last = this.sink;
		for (int i = 0; i < this.rounds; i++) {
			digest.update(INPUT);
			digest.update(last);
			last = digest.digest()[0];
		}
		this.sink = last;
		return chain.filter(exchange);
	}

	@Override
	public int getOrder() {
		// Next to the key-auth filter (KEY_AUTH_FILTER_ORDER, -101).
		return -102;
	}

	private static MessageDigest sha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
