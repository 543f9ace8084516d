-- The order of `sort=next_deadline` exactly as list_complaints writes it
-- (`due_at IS NULL`, `due_at`, `id`: complaints without a running deadline
-- last on both databases), so that the first page is read from an index
-- instead of sorting every complaint the caller may see. Without them the
-- list at 1,000,000 complaints took seconds (docs/benchmarks.md).
CREATE INDEX complaints_due_order_idx ON complaints ((due_at IS NULL), due_at, id);
CREATE INDEX complaints_retailer_id_due_order_idx ON complaints (retailer_id, (due_at IS NULL), due_at, id);
