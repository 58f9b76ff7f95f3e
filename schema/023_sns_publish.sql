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

