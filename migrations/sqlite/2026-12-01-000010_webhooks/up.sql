-- A shop's webhook endpoints. `secret` is sealed (SecretKeeper); `events`
-- is a JSON array of webhook types. `failing_since` is when the current run
-- of failed deliveries began (NULL while it answers); three days of it
-- disable the endpoint (`enabled` false, `disabled_at` set).
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    retailer_id TEXT NOT NULL REFERENCES retailers(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT true,
    failing_since TIMESTAMP NULL,
    disabled_at TIMESTAMP NULL,
    created_by TEXT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_retailer_idx ON webhook_endpoints (retailer_id);

-- One row per complaint event that some endpoint subscribed to, written in
-- the event's transaction; `body` is the exact JSON every delivery sends.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    complaint_id TEXT NOT NULL REFERENCES complaints(id),
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_events_complaint_idx ON webhook_events (complaint_id);

-- One row per event and endpoint: the delivery log and the worker's queue
-- (leased like the mail outbox: `locked_until` + `claim_token`).
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_id TEXT NOT NULL REFERENCES webhook_events(id),
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT NULL,
    last_error TEXT NULL,
    available_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP NULL,
    claim_token TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, available_at);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at);
