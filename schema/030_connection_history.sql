-- The broker's connection history (docs/audit.md), written by the plugin's
-- engine thread: one row per accepted MQTT connection, with the client id,
-- the certificate of a TLS client (NULL otherwise), when it connected and,
-- once it has, when it disconnected. taken_over is 1 when a newer
-- connection with the same client id knocked it off. end_seq is the
-- newest seq when it disconnected: a connection whose seq is at most
-- another's end_seq connected while that one was open, whatever the clock
-- said (a manual clock gives them all one time). Rows older than the
-- audit look-back window, and rows past a ceiling, are pruned on insert.
CREATE TABLE connection_history (
    seq INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    certificate_id TEXT,
    connected_ms INTEGER NOT NULL,
    disconnected_ms INTEGER,
    end_seq INTEGER,
    taken_over INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX connection_history_open ON connection_history (client_id)
    WHERE disconnected_ms IS NULL;
CREATE INDEX connection_history_by_time ON connection_history (connected_ms);
