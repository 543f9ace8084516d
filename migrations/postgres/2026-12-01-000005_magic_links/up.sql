-- Single-use sign-in links: only a SHA-256 of the mailed token is kept.
CREATE TABLE magic_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NULL REFERENCES users(id),
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NULL
);
CREATE INDEX magic_links_email_idx ON magic_links (email);
