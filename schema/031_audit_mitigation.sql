-- Audit mitigation actions tasks (docs/audit.md): a task applies the
-- mitigation actions of auditCheckToActionsMapping to the findings of its
-- target, one execution per (finding, action), run by the audit worker.

-- target and mapping are the request's JSON as printed by the server;
-- actions is the JSON array of the actions' definitions when it started.
CREATE TABLE audit_mitigation_tasks (
    task_id TEXT PRIMARY KEY,
    client_request_token TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELED')),
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    target TEXT NOT NULL,
    mapping TEXT NOT NULL,
    actions TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX audit_mitigation_tasks_by_start ON audit_mitigation_tasks (start_ms, task_id);

-- One execution per (finding, action) in the order they run. PENDING
-- ones wait for the worker.
CREATE TABLE audit_mitigation_executions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES audit_mitigation_tasks (task_id) ON DELETE CASCADE,
    finding_id TEXT NOT NULL,
    check_name TEXT NOT NULL,
    action_name TEXT NOT NULL,
    action_id TEXT NOT NULL,
    status TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    error_code TEXT,
    message TEXT
);
CREATE INDEX audit_mitigation_executions_by_task ON audit_mitigation_executions (task_id, id);
