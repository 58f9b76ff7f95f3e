-- Device Defender Audit (docs/audit.md): the account's audit configuration,
-- audit tasks with one row per check they run, the findings those checks
-- produce, suppressions and scheduled audits.

-- One row once UpdateAccountAuditConfiguration has been called; the SNS
-- target columns are NULL until a target is given.
CREATE TABLE audit_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    role_arn TEXT,
    sns_target_arn TEXT,
    sns_role_arn TEXT,
    sns_enabled INTEGER
);

-- The checks the caller has named; a check without a row is disabled.
-- configuration is the JSON object of its configuration, as printed by the
-- server, NULL when none was given.
CREATE TABLE audit_checks (
    check_name TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL,
    configuration TEXT
) WITHOUT ROWID;

-- An audit task. status IN_PROGRESS tasks are run by the server's audit
-- worker, which also picks them up again after a restart.
CREATE TABLE audit_tasks (
    task_id TEXT PRIMARY KEY,
    task_type TEXT NOT NULL CHECK (task_type IN ('ON_DEMAND_AUDIT_TASK', 'SCHEDULED_AUDIT_TASK')),
    status TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELED')),
    scheduled_audit_name TEXT,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER
) WITHOUT ROWID;
CREATE INDEX audit_tasks_by_start ON audit_tasks (start_ms, task_id);
CREATE INDEX audit_tasks_running ON audit_tasks (status) WHERE status = 'IN_PROGRESS';

-- One row per check of a task: its run status and counts.
CREATE TABLE audit_task_checks (
    task_id TEXT NOT NULL REFERENCES audit_tasks (task_id) ON DELETE CASCADE,
    check_name TEXT NOT NULL,
    run_status TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    non_compliant INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, check_name)
) WITHOUT ROWID;

-- A finding. resource_key is the canonical text of the resource
-- identifier (what suppressions and filters match); resource and related
-- are the JSON of nonCompliantResource and relatedResources.
CREATE TABLE audit_findings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL UNIQUE,
    task_id TEXT NOT NULL REFERENCES audit_tasks (task_id) ON DELETE CASCADE,
    check_name TEXT NOT NULL,
    task_start_ms INTEGER NOT NULL,
    finding_ms INTEGER NOT NULL,
    severity TEXT NOT NULL,
    resource_key TEXT NOT NULL,
    resource TEXT NOT NULL,
    related TEXT,
    reason_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_findings_by_task ON audit_findings (task_id, seq);
CREATE INDEX audit_findings_by_time ON audit_findings (finding_ms, seq);

-- CreateAuditSuppression: expiration_ms NULL when indefinite.
CREATE TABLE audit_suppressions (
    check_name TEXT NOT NULL,
    resource_key TEXT NOT NULL,
    resource TEXT NOT NULL,
    expiration_ms INTEGER,
    indefinite INTEGER NOT NULL,
    description TEXT,
    client_request_token TEXT NOT NULL,
    PRIMARY KEY (check_name, resource_key)
) WITHOUT ROWID;

-- CreateScheduledAudit. checks is the JSON array of check names; last_ms
-- the emulated time of the last run (or of creation).
CREATE TABLE audit_scheduled (
    name TEXT PRIMARY KEY,
    frequency TEXT NOT NULL,
    day_of_month TEXT,
    day_of_week TEXT,
    checks TEXT NOT NULL,
    tags TEXT,
    created_ms INTEGER NOT NULL,
    next_ms INTEGER NOT NULL
) WITHOUT ROWID;
