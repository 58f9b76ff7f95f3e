-- SQS FIFO queues: a message's group, deduplication id and sequence
-- number (NULL on standard queues), each queue's last sequence number, and
-- the deduplication ids a FIFO queue remembers for five minutes after a
-- send, even once the message is gone. And a message's AWSTraceHeader
-- system attribute, on any queue.

ALTER TABLE sqs_messages ADD COLUMN group_id TEXT;
ALTER TABLE sqs_messages ADD COLUMN dedup_id TEXT;
ALTER TABLE sqs_messages ADD COLUMN sequence INTEGER;
ALTER TABLE sqs_messages ADD COLUMN trace_header TEXT;
CREATE INDEX sqs_messages_by_group ON sqs_messages (queue_id, group_id, id);

ALTER TABLE sqs_queues ADD COLUMN last_sequence INTEGER NOT NULL DEFAULT 0;

CREATE TABLE sqs_dedup (
    queue_id INTEGER NOT NULL,
    scope TEXT NOT NULL,        -- '' for the queue, else the message group (DeduplicationScope)
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,   -- the message the id was first sent with
    sequence INTEGER NOT NULL,
    sent_ms INTEGER NOT NULL,   -- emulated; forgotten five minutes later
    PRIMARY KEY (queue_id, scope, dedup_id)
);

CREATE TRIGGER sqs_queues_drop_dedup AFTER DELETE ON sqs_queues BEGIN
    DELETE FROM sqs_dedup WHERE queue_id = OLD.id;
END;
