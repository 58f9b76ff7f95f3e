-- IoT policies with their versions and attachments, and the Device Defender
-- dimensions and custom metrics. Times are emulated epoch milliseconds.

-- seq orders ListPolicies by creation (ascendingOrder); a re-created policy
-- gets a new one. next_version never goes back, so a deleted version id is
-- never reused, as in AWS. generation changes with every default switch.
CREATE TABLE policies (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    default_version INTEGER NOT NULL,
    next_version INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

CREATE TABLE policy_versions (
    policy_name TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (policy_name, version)
);

-- A target is kept as its kind and name; its ARN is rebuilt from the
-- configured region and account. kind 'thinggroup' names a row of
-- thing_groups, kind 'cert' a certificate id (64 hex digits).
CREATE TABLE policy_targets (
    policy_name TEXT NOT NULL REFERENCES policies (name),
    kind TEXT NOT NULL CHECK (kind IN ('thinggroup', 'cert')),
    target_name TEXT NOT NULL,
    PRIMARY KEY (policy_name, kind, target_name)
);
CREATE INDEX policy_targets_by_target ON policy_targets (kind, target_name, policy_name);

-- string_values and tags are the JSON arrays as validated (tags NULL when
-- none were given); the request token makes a repeated create idempotent.
CREATE TABLE dimensions (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('TOPIC_FILTER')),
    string_values TEXT NOT NULL,
    tags TEXT,
    client_request_token TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

CREATE TABLE custom_metrics (
    name TEXT PRIMARY KEY CHECK (substr(name, 1, 4) <> 'aws:'),
    metric_type TEXT NOT NULL
        CHECK (metric_type IN ('string-list', 'ip-address-list', 'number-list', 'number')),
    display_name TEXT,
    tags TEXT,
    client_request_token TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

-- Deleting a thing group takes away the policies attached to it (AWS: "deleting
-- a group removes the permissions it granted").
CREATE TRIGGER thing_groups_detach_policies AFTER DELETE ON thing_groups
BEGIN
    DELETE FROM policy_targets WHERE kind = 'thinggroup' AND target_name = OLD.name;
END;
