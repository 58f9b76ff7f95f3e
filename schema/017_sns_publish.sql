-- SNS Publish's MessageStructure and MessageAttributes, kept with the
-- message: with MessageStructure 'json' the message is a JSON object of
-- per-protocol texts ("default", "http", "email", ...), and whoever builds a
-- delivery picks its protocol's entry, else "default". message_attributes is
-- a JSON object {"name": {"Type": "String", "Value": "..."}} (Binary values
-- as base64 text), the shape of an SNS notification's MessageAttributes;
-- NULL when the publisher gave none.

ALTER TABLE sns_messages ADD COLUMN message_structure TEXT;
ALTER TABLE sns_messages ADD COLUMN message_attributes TEXT;

-- FIFO topics: a message's group, its deduplication id (NULL when the
-- topic deduplicates by content), and its sequence number in the topic.
ALTER TABLE sns_messages ADD COLUMN message_group_id TEXT;
ALTER TABLE sns_messages ADD COLUMN message_dedup_id TEXT;
ALTER TABLE sns_messages ADD COLUMN sequence_number INTEGER;
CREATE INDEX sns_messages_by_topic_sequence ON sns_messages (topic_arn, sequence_number);

-- email and email-json subscriptions: nothing is sent, so their deliveries
-- are written as delivered at once and read back by GET /_ddlocal/email.
-- SQLite cannot change a CHECK in place: the table is rebuilt.
CREATE TABLE sns_subscriptions_017 (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL REFERENCES sns_topics (arn) ON DELETE CASCADE,
    protocol TEXT NOT NULL
        CHECK (protocol IN ('http', 'https', 'lambda', 'email', 'email-json')),
    endpoint TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL
);
INSERT INTO sns_subscriptions_017 SELECT arn, topic_arn, protocol, endpoint, confirmed, token,
    created_ms FROM sns_subscriptions;
DROP TABLE sns_subscriptions;
ALTER TABLE sns_subscriptions_017 RENAME TO sns_subscriptions;
CREATE UNIQUE INDEX sns_subscriptions_by_endpoint
    ON sns_subscriptions (topic_arn, protocol, endpoint);
