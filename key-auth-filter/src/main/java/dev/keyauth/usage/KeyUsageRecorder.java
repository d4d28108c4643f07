package dev.keyauth.usage;

import java.util.UUID;

/**
 * Told about every successful authentication, on the request path: implementations must only
 * count in memory and never block.
 */
@FunctionalInterface
public interface KeyUsageRecorder {

	KeyUsageRecorder NONE = (id) -> {
	};

	void record(UUID keyId);

}
