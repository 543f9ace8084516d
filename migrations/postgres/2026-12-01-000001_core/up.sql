-- Core tables of the dispute engine. Keep in step with
-- migrations/sqlite/2026-12-01-000001_core/up.sql: same tables, columns,
-- nullability, defaults and index names (checked by odr-store's parity test).
-- Portable types only: ids and JSON as TEXT, naive-UTC TIMESTAMP, BIGINT, BOOLEAN.

CREATE TABLE settings (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE retailers (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    support_email TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'en',
    currency TEXT NOT NULL DEFAULT 'EUR',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    business_days BOOLEAN NOT NULL DEFAULT false,
    holidays TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    retailer_id TEXT NULL REFERENCES retailers (id),
    locale TEXT NOT NULL DEFAULT 'en',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    session_epoch BIGINT NOT NULL DEFAULT 0,
    disabled_at TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_retailer_id_idx ON users (retailer_id);
CREATE INDEX users_role_idx ON users (role);

CREATE TABLE complaints (
    id TEXT NOT NULL PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    retailer_id TEXT NOT NULL REFERENCES retailers (id),
    customer_id TEXT NOT NULL REFERENCES users (id),
    mediator_id TEXT NULL REFERENCES users (id),
    state TEXT NOT NULL,
    outcome TEXT NULL,
    category TEXT NOT NULL,
    order_reference TEXT NOT NULL,
    next_deadline_at TIMESTAMP NULL,
    machine TEXT NOT NULL,
    version BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX complaints_retailer_id_created_at_idx ON complaints (retailer_id, created_at);
CREATE INDEX complaints_customer_id_created_at_idx ON complaints (customer_id, created_at);
CREATE INDEX complaints_mediator_id_idx ON complaints (mediator_id);
CREATE INDEX complaints_state_next_deadline_at_idx ON complaints (state, next_deadline_at);
CREATE INDEX complaints_created_at_id_idx ON complaints (created_at, id);

CREATE TABLE complaint_events (
    complaint_id TEXT NOT NULL REFERENCES complaints (id),
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    actor_id TEXT NULL,
    actor_role TEXT NOT NULL,
    from_state TEXT NULL,
    to_state TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (complaint_id, seq)
);

CREATE TABLE messages (
    id TEXT NOT NULL PRIMARY KEY,
    complaint_id TEXT NOT NULL REFERENCES complaints (id),
    seq BIGINT NOT NULL,
    author_id TEXT NOT NULL REFERENCES users (id),
    author_role TEXT NOT NULL,
    body TEXT NULL,
    phrase_codes TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_complaint_id_seq_idx ON messages (complaint_id, seq);

CREATE TABLE outbox (
    id TEXT NOT NULL PRIMARY KEY,
    complaint_id TEXT NULL REFERENCES complaints (id),
    event_seq BIGINT NULL,
    template TEXT NOT NULL,
    recipient_role TEXT NOT NULL,
    recipient_user_id TEXT NULL,
    to_address TEXT NOT NULL,
    locale TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NULL,
    available_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP NULL,
    claim_token TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NULL
);
CREATE INDEX outbox_status_available_at_idx ON outbox (status, available_at);
CREATE INDEX outbox_complaint_id_idx ON outbox (complaint_id);
