-- Reversible suspension, per-key rate limits, rotation lineage and usage counters.
ALTER TABLE keyauth_api_keys
    ADD COLUMN disabled_at        timestamptz,
    ADD COLUMN rate_limit_rps     integer,
    ADD COLUMN rate_limit_burst   integer,
    ADD COLUMN rotated_from       uuid,
    ADD COLUMN updated_at         timestamptz,
    ADD COLUMN request_count      bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT keyauth_api_keys_rate_limit CHECK (
        (rate_limit_rps IS NULL AND rate_limit_burst IS NULL)
        OR (rate_limit_rps > 0 AND rate_limit_burst >= rate_limit_rps));
