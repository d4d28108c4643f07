ALTER TABLE keyauth_api_keys ADD COLUMN disabled_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE keyauth_api_keys ADD COLUMN rate_limit_rps INTEGER;
ALTER TABLE keyauth_api_keys ADD COLUMN rate_limit_burst INTEGER;
ALTER TABLE keyauth_api_keys ADD COLUMN rotated_from UUID;
ALTER TABLE keyauth_api_keys ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE keyauth_api_keys ADD COLUMN request_count BIGINT DEFAULT 0 NOT NULL;
