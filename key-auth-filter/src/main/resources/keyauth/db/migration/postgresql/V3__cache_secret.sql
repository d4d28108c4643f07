-- One secret for every gateway instance on this database: each signs the key records it writes
-- to Redis with it and ignores records whose signature does not match, so that whoever can
-- write to Redis but not to this database cannot forge a key's record there. Created by the
-- first instance that starts; 64 hex digits (256 random bits).
CREATE TABLE keyauth_cache_secret (
    id      smallint PRIMARY KEY CHECK (id = 1),
    secret  varchar(64) NOT NULL
);
