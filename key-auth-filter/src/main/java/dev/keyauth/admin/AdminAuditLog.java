package dev.keyauth.admin;

import java.net.InetSocketAddress;

import dev.keyauth.store.ApiKey;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.web.reactive.function.server.ServerRequest;

/**
 * One line per committed admin change, on the logger {@code keyauth.audit}, so that who changed
 * which key and when can be told afterwards: route that logger to an appender of its own, or set
 * it to {@code OFF} to have none.
 * <p>
 * A line names the action, the key's id, its consumer and the caller's address, as
 * {@code key=value} pairs; never the key, its hash, or anything else from the request. Consumer
 * ids are printable ASCII (the admin API refuses any other), so a line cannot be split; they are
 * quoted, so that one holding a space or {@code by=} cannot pass for another field either.
 * Reads are not logged.
 */
final class AdminAuditLog {

	private static final Log logger = LogFactory.getLog("keyauth.audit");

	private AdminAuditLog() {
	}

	static void changed(String action, ApiKey key, ServerRequest request) {
		if (logger.isInfoEnabled()) {
			logger.info("action=" + action + " key=" + key.id() + " consumer=" + quoted(key.consumerId()) + " by="
					+ caller(request));
		}
	}

	static void rotated(ApiKey previous, ApiKey successor, ServerRequest request) {
		if (logger.isInfoEnabled()) {
			logger.info("action=rotated key=" + previous.id() + " consumer=" + quoted(previous.consumerId()) + " successor="
					+ successor.id() + " previousExpiresAt=" + previous.expiresAt() + " by=" + caller(request));
		}
	}

	static void revokedAll(String consumerId, long count, ServerRequest request) {
		if (logger.isInfoEnabled()) {
			logger.info("action=revoked-all consumer=" + quoted(consumerId) + " count=" + count + " by=" + caller(request));
		}
	}

	static String quoted(String value) {
		return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
	}

	private static String caller(ServerRequest request) {
		return request.remoteAddress()
			.map(InetSocketAddress::getAddress)
			.map((address) -> address.getHostAddress())
			.orElse("unknown");
	}

}
