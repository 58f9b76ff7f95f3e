-- Device Defender mitigation: the actions (CreateMitigationAction) and the
-- Detect mitigation tasks with one execution row per (violation, action).
-- A task runs inside the request that starts it, so its rows, its
-- executions and the thing-group memberships it adds commit together.
-- Times are emulated epoch milliseconds.

CREATE TABLE mitigation_actions (
    name TEXT PRIMARY KEY,
    action_id TEXT NOT NULL UNIQUE,        -- a UUID
    action_type TEXT NOT NULL,             -- follows from the actionParams member
    role_arn TEXT NOT NULL,
    params TEXT NOT NULL,                  -- the actionParams object, canonical JSON
    tags TEXT,                             -- JSON array or NULL
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);
CREATE INDEX mitigation_actions_by_type ON mitigation_actions (action_type, name);

CREATE TABLE detect_mitigation_tasks (
    task_id TEXT PRIMARY KEY,
    client_request_token TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,                 -- canonical request, to recognise a retry
    status TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'SUCCESSFUL', 'FAILED', 'CANCELED')),
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    target TEXT NOT NULL,                  -- DetectMitigationActionsTaskTarget JSON
    range_start_ms INTEGER,                -- violationEventOccurrenceRange, NULL = none
    range_end_ms INTEGER,
    only_active INTEGER NOT NULL,
    include_suppressed INTEGER NOT NULL,
    actions TEXT NOT NULL,                 -- JSON array of MitigationAction as at the start
    n_executed INTEGER NOT NULL DEFAULT 0,
    n_skipped INTEGER NOT NULL DEFAULT 0,
    n_failed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX detect_mitigation_tasks_by_start ON detect_mitigation_tasks (start_ms, task_id);

-- No foreign key to violations: an execution outlives its violation's
-- retention, as AWS keeps task history apart from violation history.
CREATE TABLE detect_mitigation_executions (
    id INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES detect_mitigation_tasks (task_id) ON DELETE CASCADE,
    violation_id TEXT NOT NULL,
    action_name TEXT NOT NULL,
    thing_name TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    status TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'SUCCESSFUL', 'FAILED', 'SKIPPED')),
    error_code TEXT,
    message TEXT
);
CREATE INDEX detect_mitigation_executions_by_task ON detect_mitigation_executions (task_id, id);
CREATE INDEX detect_mitigation_executions_by_start ON detect_mitigation_executions (start_ms);
