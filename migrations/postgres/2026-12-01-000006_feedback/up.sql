-- The customer's rating of a closed complaint: one row per complaint (the
-- key keeps it to one), written with its `feedback` event. The statistics
-- average `score` over the complaints of a period.
CREATE TABLE feedback (
    complaint_id TEXT NOT NULL PRIMARY KEY REFERENCES complaints (id),
    seq BIGINT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES users (id),
    score BIGINT NOT NULL,
    comment TEXT NULL,
    created_at TIMESTAMP NOT NULL
);
