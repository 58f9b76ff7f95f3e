-- Registry events: the partition's event configuration
-- (UpdateEventConfigurations). One row per EventType ever configured; no
-- row = disabled, as in a fresh AWS account. Times are emulated epoch ms.
CREATE TABLE event_config (
    type TEXT PRIMARY KEY,       -- AWS's EventType: THING, THING_GROUP, ...
    enabled INTEGER NOT NULL,    -- 0 or 1
    created_ms INTEGER NOT NULL, -- first configured
    updated_ms INTEGER NOT NULL  -- last configured
) WITHOUT ROWID;
