-- API keys on the embedded H2 store. Same columns as on PostgreSQL; scopes and metadata are
-- JSON text here.
CREATE TABLE keyauth_api_keys (
    id            UUID                      PRIMARY KEY,
    key_hash      VARBINARY(32)             NOT NULL,
    key_start     VARCHAR(48)               NOT NULL,
    consumer_id   VARCHAR(128)              NOT NULL,
    name          VARCHAR(200),
    scopes        VARCHAR(8192)             DEFAULT '[]' NOT NULL,
    metadata      VARCHAR(16384)            DEFAULT '{}' NOT NULL,
    created_at    TIMESTAMP WITH TIME ZONE  NOT NULL,
    expires_at    TIMESTAMP WITH TIME ZONE,
    revoked_at    TIMESTAMP WITH TIME ZONE,
    last_used_at  TIMESTAMP WITH TIME ZONE,
    CONSTRAINT keyauth_api_keys_key_hash_key UNIQUE (key_hash)
);

CREATE INDEX keyauth_api_keys_consumer_idx ON keyauth_api_keys (consumer_id, created_at DESC, id DESC);
