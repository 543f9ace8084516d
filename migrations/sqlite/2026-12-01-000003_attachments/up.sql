-- Evidence files: the row is written with its `attachment` event; the
-- bytes live under the attachment directory at `storage_key`.
CREATE TABLE attachments (
    id TEXT NOT NULL PRIMARY KEY,
    complaint_id TEXT NOT NULL REFERENCES complaints (id),
    seq BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploader_role TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    caption TEXT NULL,
    storage_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_complaint_id_seq_idx ON attachments (complaint_id, seq);

-- The attachments a message points at (JSON array of ids).
ALTER TABLE messages ADD COLUMN attachment_ids TEXT NOT NULL DEFAULT '[]';
