-- API keys. Only the SHA-256 of a key is stored; the key itself is shown once and forgotten.
CREATE TABLE keyauth_api_keys (
    id            uuid         PRIMARY KEY,
    key_hash      bytea        NOT NULL,
    key_start     varchar(48)  NOT NULL,
    consumer_id   varchar(128) NOT NULL,
    name          varchar(200),
    scopes        text[]       NOT NULL DEFAULT '{}',
    metadata      jsonb        NOT NULL DEFAULT '{}',
    created_at    timestamptz  NOT NULL,
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    CONSTRAINT keyauth_api_keys_hash_length CHECK (octet_length(key_hash) = 32),
    -- The unique constraint is also the index every authenticated request uses.
    CONSTRAINT keyauth_api_keys_key_hash_key UNIQUE (key_hash)
);

-- Admin listing: a consumer's keys, newest first.
CREATE INDEX keyauth_api_keys_consumer_idx ON keyauth_api_keys (consumer_id, created_at DESC, id DESC);
