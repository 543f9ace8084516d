-- One transition (an `acknowledge` by the retailer's staff) as the engine
-- issues it on PostgreSQL (captured with log_statement = 'all'; see
-- docs/benchmarks.md): load the caller (every request signs its caller in
-- afresh), load the complaint, load its retailer for the calendar, then one
-- transaction with the versioned UPDATE, the event row, the lookups that
-- resolve the notification's recipient, and its outbox row.
--
-- Run by `make bench` (crates/odr-bench/src/limit.rs) on the engine's own
-- schema after `odr serve` migrated it and ran its load, against copies of
-- one of its complaints `limit-0` .. `limit-{clients * per_client - 1}`:
--
--   pgbench -n -M prepared -c 32 -j 2 -T 20 -f bench/pgbench/transition.sql \
--     -D per_client=100 -D caller_id=... -D event_payload='{...}' \
--     -D mail_payload='{...}' DBURL
--
-- Each client works on its own complaints (as each engine client does), so
-- no two transactions wait for one row. Values the engine computes in Rust
-- (timestamps, the new machine JSON, the outbox id) are bound parameters here
-- too: the machine is written back as it was read (same size).

\set k random(0, :per_client - 1)
\set n :client_id * :per_client + :k

-- Credential::load: the caller, a staff member of the complaint's retailer
SELECT id, email, password_hash, display_name, role, retailer_id, locale, time_zone, session_epoch, disabled_at, created_at, updated_at FROM users WHERE (users.id = :caller_id) LIMIT 1;

-- Store::complaint (the route's load)
SELECT id, reference, retailer_id, customer_id, mediator_id, state, outcome, category, order_reference, next_deadline_at, due_at, machine, version, last_seq, created_at, updated_at FROM complaints WHERE (complaints.id = ('limit-' || :n)) LIMIT 1 \gset c_

-- Store::transition: the retailer's calendar
SELECT id, name, support_email, locale, currency, time_zone, business_days, holidays, created_at, updated_at FROM retailers WHERE (retailers.id = :c_retailer_id) LIMIT 1;

-- Store::record_transition
BEGIN;
UPDATE complaints SET mediator_id = NULL, state = 'acknowledged', outcome = NULL, next_deadline_at = LOCALTIMESTAMP, due_at = LOCALTIMESTAMP, machine = :c_machine, version = :c_version + 1, last_seq = :c_last_seq + 1, updated_at = LOCALTIMESTAMP WHERE ((complaints.id = :c_id) AND (complaints.version = :c_version));
INSERT INTO complaint_events (complaint_id, seq, type, actor_id, actor_role, from_state, to_state, payload, at) VALUES (:c_id, :c_last_seq + 1, 'acknowledge', 'staff', 'retailer_staff', 'filed', 'acknowledged', :event_payload, LOCALTIMESTAMP);
-- write_deliveries: the retailer's enabled webhook endpoints (none here)
SELECT webhook_endpoints.id, webhook_endpoints.events FROM webhook_endpoints WHERE ((webhook_endpoints.retailer_id = :c_retailer_id) AND (webhook_endpoints.enabled = true)) ORDER BY webhook_endpoints.created_at ASC;
-- write_notifications: the customer, for the mail's facts and as its
-- recipient (the retailer is the one loaded above)
SELECT id, email, password_hash, display_name, role, retailer_id, locale, time_zone, session_epoch, disabled_at, created_at, updated_at FROM users WHERE (users.id = :c_customer_id) LIMIT 1;
INSERT INTO outbox (id, complaint_id, event_seq, template, recipient_role, recipient_user_id, to_address, locale, payload, status, attempts, last_error, available_at, locked_until, claim_token, created_at, sent_at) VALUES (gen_random_uuid()::text, :c_id, :c_last_seq + 1, 'acknowledged', 'customer', :c_customer_id, 'customer@bench.test', 'en', :mail_payload, 'pending', 0, NULL, LOCALTIMESTAMP, NULL, NULL, LOCALTIMESTAMP, NULL);
COMMIT;
