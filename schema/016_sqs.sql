-- SQS: queues and their messages. Times are emulated epoch ms, so the
-- manual clock drives delays and visibility timeouts. A message is visible
-- when visible_ms <= now; before that it is delayed (never received yet) or
-- in flight (received at least once).

CREATE TABLE sqs_queues (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    attributes TEXT NOT NULL DEFAULT '{}', -- JSON object: the settable attributes, as strings
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

CREATE TABLE sqs_messages (
    id INTEGER PRIMARY KEY,                -- send order
    queue_id INTEGER NOT NULL REFERENCES sqs_queues (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}', -- JSON: MessageAttributes as the JSON protocol has them
    md5_body TEXT NOT NULL,
    md5_attributes TEXT NOT NULL DEFAULT '',
    sent_ms INTEGER NOT NULL,
    visible_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt_serial INTEGER NOT NULL DEFAULT 0, -- bumped by every receive: part of the receipt handle
    dlq_source TEXT                        -- the source queue's ARN once moved to a dead-letter queue
);
CREATE INDEX sqs_messages_by_queue ON sqs_messages (queue_id, visible_ms, id);

-- A queue's tags (TagQueue, CreateQueue's tags) are rows of the tags table
-- under the queue's ARN, and go with the queue. Names hold no ':', and the
-- GLOB keeps an SNS topic of the same name out of it.
CREATE TRIGGER sqs_queues_drop_tags AFTER DELETE ON sqs_queues BEGIN
    DELETE FROM tags WHERE arn GLOB 'arn:*:sqs:*'
        AND substr(arn, -length(':' || OLD.name)) = ':' || OLD.name;
END;
