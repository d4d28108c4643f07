package dev.keyauth.store;

/**
 * What a rotation wrote: the key that replaces the previous one, and the previous one with the
 * expiry it now has.
 */
public record ApiKeyRotation(ApiKey successor, ApiKey previous) {
}
