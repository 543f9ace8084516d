-- The soonest running deadline of a complaint (not the engine's wake-up
-- time, which also covers reminders): the key of `sort=next_deadline`.
-- NULL when nothing is running (closed complaints among them).
ALTER TABLE complaints ADD COLUMN due_at TIMESTAMP NULL;
-- Rows from before this column: the wake-up time is the closest value SQL
-- can know; the next transition of each complaint writes the exact one.
UPDATE complaints SET due_at = next_deadline_at WHERE state <> 'closed';
CREATE INDEX complaints_due_at_id_idx ON complaints (due_at, id);
