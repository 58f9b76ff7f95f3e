-- SNS: topics, subscriptions, the messages published to them and one
-- delivery row per (message, subscription), the durable outbox the plugin's
-- delivery thread works through. Emulated epoch ms for SNS timestamps; the
-- delivery columns (*_real_ms) are real time, because retries wait real
-- seconds. Tables named emulator_* are configuration that /_ddlocal/reset
-- keeps: the signing key and the Lambda function URL mappings.

CREATE TABLE sns_topics (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}', -- JSON object of settable attributes
    created_ms INTEGER NOT NULL
);

CREATE TABLE sns_subscriptions (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL REFERENCES sns_topics (arn) ON DELETE CASCADE,
    protocol TEXT NOT NULL CHECK (protocol IN ('http', 'https', 'lambda')),
    endpoint TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    token TEXT NOT NULL UNIQUE,            -- SubscribeURL / ConfirmSubscription token
    created_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX sns_subscriptions_by_endpoint
    ON sns_subscriptions (topic_arn, protocol, endpoint);

-- One published message (a Detect alert, a Publish call, a confirmation).
CREATE TABLE sns_messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,       -- the SNS MessageId, same on every retry
    type TEXT NOT NULL CHECK (type IN ('Notification', 'SubscriptionConfirmation')),
    topic_arn TEXT NOT NULL,
    subject TEXT,
    message TEXT NOT NULL,
    token TEXT,                            -- SubscriptionConfirmation
    timestamp_ms INTEGER NOT NULL,         -- emulated publish time
    alert_id INTEGER                       -- the alerts row it came from, if any
);
CREATE INDEX sns_messages_by_alert ON sns_messages (alert_id);

CREATE TABLE sns_deliveries (
    id INTEGER PRIMARY KEY,                -- order of delivery per subscription
    message_row INTEGER NOT NULL REFERENCES sns_messages (id) ON DELETE CASCADE,
    subscription_arn TEXT NOT NULL,        -- kept after an unsubscribe, for the record
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'canceled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_real_ms INTEGER NOT NULL,
    last_attempt_real_ms INTEGER,
    last_http_status INTEGER,              -- NULL: no answer (timeout, refused)
    last_error TEXT,
    done_real_ms INTEGER                   -- when it became delivered or failed
);
CREATE INDEX sns_deliveries_pending ON sns_deliveries (status, subscription_arn, id);
CREATE INDEX sns_deliveries_by_message ON sns_deliveries (message_row);

-- How far the delivery thread has fanned out the alerts table.
CREATE TABLE sns_alert_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_alert_id INTEGER NOT NULL
);

-- What the built-in receiver POST /_ddlocal/sink/{name} got.
CREATE TABLE sns_sink (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    received_real_ms INTEGER NOT NULL,
    headers TEXT NOT NULL,                 -- JSON object
    body TEXT NOT NULL
);
CREATE INDEX sns_sink_by_name ON sns_sink (name, id);

CREATE TABLE emulator_sns_signing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cert_id TEXT NOT NULL,                 -- 32 hex digits: SimpleNotificationService-<id>.pem
    key_pem TEXT NOT NULL,
    cert_pem TEXT NOT NULL
);

CREATE TABLE emulator_lambda_functions (
    function_arn TEXT PRIMARY KEY,
    url TEXT NOT NULL
);
