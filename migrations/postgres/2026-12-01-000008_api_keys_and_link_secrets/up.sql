-- API keys of a shop: only a SHA-256 (hex) of the key is kept. Each key has
-- a backing user (role retailer_staff, no password) its actions are
-- attributed to; that user is not a person (see users.rs).
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    retailer_id TEXT NOT NULL REFERENCES retailers(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    revoked_at TIMESTAMP NULL
);
CREATE INDEX api_keys_retailer_idx ON api_keys (retailer_id);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- Secrets a shop signs its order links with; kept sealed (readable by the
-- engine, which verifies with them).
CREATE TABLE link_secrets (
    id TEXT PRIMARY KEY NOT NULL,
    retailer_id TEXT NOT NULL REFERENCES retailers(id),
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    revoked_at TIMESTAMP NULL
);
CREATE INDEX link_secrets_retailer_idx ON link_secrets (retailer_id);
