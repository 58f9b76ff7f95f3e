-- Messages the server wants published on MQTT (shadow replies to REST
-- updates, iot-data Publish). The plugin's engine thread drains the table in
-- id order and hands each row to the broker thread, which publishes it.
CREATE TABLE mqtt_outbox (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL DEFAULT 0,
    retain INTEGER NOT NULL DEFAULT 0,
    properties TEXT                   -- JSON: MQTT 5 properties of iot-data Publish, or NULL
);
