ALTER TABLE messages DROP COLUMN attachment_ids;
DROP TABLE attachments;
