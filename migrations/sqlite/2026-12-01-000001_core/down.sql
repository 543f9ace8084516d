DROP TABLE outbox;
DROP TABLE messages;
DROP TABLE complaint_events;
DROP TABLE complaints;
DROP TABLE users;
DROP TABLE retailers;
DROP TABLE settings;
