-- SNS subscriptions get their attributes (RawMessageDelivery, FilterPolicy,
-- FilterPolicyScope, RedrivePolicy, DeliveryPolicy, SubscriptionRoleArn: a
-- JSON object of strings, as SetSubscriptionAttributes stores them) and
-- every protocol AWS has (the server decides which it accepts); a delivery
-- that the subscription's filter policy kept back is recorded as
-- 'filtered'. SQLite cannot change a CHECK, so both tables are rebuilt.

CREATE TABLE sns_subscriptions_017 (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL REFERENCES sns_topics (arn) ON DELETE CASCADE,
    protocol TEXT NOT NULL CHECK (protocol IN ('http', 'https', 'email', 'email-json', 'sms',
                                               'sqs', 'application', 'lambda', 'firehose')),
    endpoint TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    token TEXT NOT NULL UNIQUE,            -- SubscribeURL / ConfirmSubscription token
    created_ms INTEGER NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}'  -- JSON object of the settable attributes
);
INSERT INTO sns_subscriptions_017 (arn, topic_arn, protocol, endpoint, confirmed, token, created_ms)
    SELECT arn, topic_arn, protocol, endpoint, confirmed, token, created_ms FROM sns_subscriptions;
DROP TABLE sns_subscriptions;
ALTER TABLE sns_subscriptions_017 RENAME TO sns_subscriptions;
CREATE UNIQUE INDEX sns_subscriptions_by_endpoint
    ON sns_subscriptions (topic_arn, protocol, endpoint);

CREATE TABLE sns_deliveries_017 (
    id INTEGER PRIMARY KEY,                -- order of delivery per subscription
    message_row INTEGER NOT NULL REFERENCES sns_messages (id) ON DELETE CASCADE,
    subscription_arn TEXT NOT NULL,        -- kept after an unsubscribe, for the record
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'filtered', 'failed',
                                           'canceled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_real_ms INTEGER NOT NULL,
    last_attempt_real_ms INTEGER,
    last_http_status INTEGER,              -- NULL: no answer (timeout, refused)
    last_error TEXT,
    done_real_ms INTEGER                   -- when it became delivered, filtered or failed
);
INSERT INTO sns_deliveries_017 SELECT * FROM sns_deliveries;
DROP TABLE sns_deliveries;
ALTER TABLE sns_deliveries_017 RENAME TO sns_deliveries;
CREATE INDEX sns_deliveries_pending ON sns_deliveries (status, subscription_arn, id);
CREATE INDEX sns_deliveries_by_message ON sns_deliveries (message_row);
