-- Device Defender Detect: security profiles and their targets (written by
-- the server), and what the broker's engine thread records: every datapoint,
-- the evaluation state per (thing, profile, behavior), violations, their
-- events, and the alert outbox. Times are emulated epoch milliseconds.

CREATE TABLE security_profiles (
    name TEXT PRIMARY KEY,
    description TEXT,
    behaviors TEXT NOT NULL DEFAULT '[]',  -- JSON array, validated, as given
    alert_targets TEXT,                    -- JSON object {"SNS": {...}} or NULL
    additional_metrics TEXT,               -- JSON array (deprecated v1 list) or NULL
    additional_metrics_v2 TEXT,            -- JSON array or NULL
    tags TEXT,                             -- JSON array or NULL
    version INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

CREATE TABLE security_profile_targets (
    profile_name TEXT NOT NULL REFERENCES security_profiles (name) ON DELETE CASCADE,
    target_arn TEXT NOT NULL,
    PRIMARY KEY (profile_name, target_arn)
);
CREATE INDEX security_profile_targets_by_arn ON security_profile_targets (target_arn);

-- One row per judged datapoint, kept for the teaching view.
CREATE TABLE datapoints (
    id INTEGER PRIMARY KEY,
    thing_name TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    behavior_name TEXT NOT NULL,
    time_ms INTEGER NOT NULL,              -- bucket end (cloud-side) or report time
    value TEXT NOT NULL,                   -- MetricValue JSON
    threshold REAL,                        -- resolved statistical/ML threshold, if any
    verdict TEXT NOT NULL CHECK (verdict IN ('compliant', 'violating', 'no-verdict')),
    streak_violating INTEGER NOT NULL,     -- the counters after this datapoint
    streak_compliant INTEGER NOT NULL,
    event TEXT                             -- the transition it caused, if any
);
CREATE INDEX datapoints_by_behavior ON datapoints (thing_name, profile_name, behavior_name, time_ms);
-- No index on time_ms: rows are appended in evaluation order, which is
-- emulated-time order, so retention finds its cut by bisecting the row ids.

CREATE TABLE behavior_states (
    thing_name TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    behavior_name TEXT NOT NULL,
    in_alarm INTEGER NOT NULL DEFAULT 0,
    streak_violating INTEGER NOT NULL DEFAULT 0,
    streak_compliant INTEGER NOT NULL DEFAULT 0,
    violation_id TEXT,                     -- the open violation while in alarm
    last_datapoint_ms INTEGER NOT NULL,
    PRIMARY KEY (thing_name, profile_name, behavior_name)
);

CREATE TABLE violations (
    violation_id TEXT PRIMARY KEY,         -- 32 lowercase hex characters
    thing_name TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    behavior_name TEXT NOT NULL,
    behavior TEXT NOT NULL,                -- the behavior JSON (API order) when it opened
    criteria_type TEXT NOT NULL,           -- STATIC | STATISTICAL | MACHINE_LEARNING
    suppressed INTEGER NOT NULL DEFAULT 0, -- the behavior had suppressAlerts
    confidence TEXT,                       -- ML confidence level
    start_ms INTEGER NOT NULL,
    last_violation_ms INTEGER NOT NULL,
    last_value TEXT NOT NULL,              -- MetricValue JSON
    end_ms INTEGER,                        -- NULL while active
    end_type TEXT,                         -- alarm-cleared | alarm-invalidated
    verification_state TEXT,
    verification_description TEXT
);
CREATE INDEX violations_active ON violations (end_ms, thing_name);

CREATE TABLE violation_events (
    id INTEGER PRIMARY KEY,
    violation_id TEXT NOT NULL REFERENCES violations (violation_id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,              -- in-alarm | alarm-cleared | alarm-invalidated
    time_ms INTEGER NOT NULL,
    metric_value TEXT                      -- NULL for alarm-invalidated
);
CREATE INDEX violation_events_by_time ON violation_events (time_ms);

-- The alert outbox: committed with the event that caused it, before any send.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    profile_name TEXT NOT NULL,
    topic_arn TEXT,                        -- the profile's alertTargets.SNS.alertTargetArn
    message TEXT NOT NULL,                 -- the Detect alert (the SNS Message string)
    violation_event_id INTEGER REFERENCES violation_events (id) ON DELETE SET NULL
);
