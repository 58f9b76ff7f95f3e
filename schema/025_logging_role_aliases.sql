-- IoT logging options (SetLoggingOptions, SetV2LoggingOptions,
-- SetV2LoggingLevel) and role aliases, which the Audit checks
-- LOGGING_DISABLED_CHECK and IOT_ROLE_ALIAS_* read.

-- One row per logging API version that was ever set: 1 for the v1
-- SetLoggingOptions (role_arn required, log_level its logLevel), 2 for
-- SetV2LoggingOptions (log_level its defaultLogLevel). No row: never
-- configured (GetV2LoggingOptions answers NotConfiguredException).
CREATE TABLE logging_options (
    version INTEGER PRIMARY KEY CHECK (version IN (1, 2)),
    role_arn TEXT,
    log_level TEXT CHECK (log_level IS NULL OR
                          log_level IN ('DEBUG', 'INFO', 'ERROR', 'WARN', 'DISABLED')),
    disable_all_logs INTEGER NOT NULL DEFAULT 0,
    modified_ms INTEGER NOT NULL
);

-- SetV2LoggingLevel: a level per target. target_name is '' for DEFAULT.
CREATE TABLE logging_levels (
    target_type TEXT NOT NULL CHECK (target_type IN ('DEFAULT', 'THING_GROUP', 'CLIENT_ID',
                                                     'SOURCE_IP', 'PRINCIPAL_ID')),
    target_name TEXT NOT NULL,
    log_level TEXT NOT NULL CHECK (log_level IN ('DEBUG', 'INFO', 'ERROR', 'WARN', 'DISABLED')),
    PRIMARY KEY (target_type, target_name)
) WITHOUT ROWID;

-- CreateRoleAlias. Times are emulated epoch milliseconds.
CREATE TABLE role_aliases (
    name TEXT PRIMARY KEY,
    role_arn TEXT NOT NULL,
    credential_duration_s INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

CREATE TRIGGER role_aliases_drop_tags AFTER DELETE ON role_aliases BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':rolealias/' || OLD.name))
        = ':rolealias/' || OLD.name;
END;
