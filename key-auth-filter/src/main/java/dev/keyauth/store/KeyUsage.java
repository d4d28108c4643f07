package dev.keyauth.store;

import java.time.Instant;
import java.util.UUID;

/** Uses of one key counted since the last flush, and the latest of them. */
public record KeyUsage(UUID id, long count, Instant lastUsedAt) {
}
