DROP INDEX complaints_due_at_id_idx;
ALTER TABLE complaints DROP COLUMN due_at;
