-- Fleet indexing: the indexing configuration of the partition (one row, id
-- 1; no row = every index OFF, as a fresh AWS account) and the broker's
-- record of MQTT connectivity, which the thing index reads for
-- connectivity.* (a client id names the thing it stands for, as AWS indexes
-- it). Mode columns hold AWS's spellings; the JSON columns hold what
-- UpdateIndexingConfiguration sent. Times are emulated epoch ms.

CREATE TABLE index_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    thing_mode TEXT NOT NULL,              -- OFF | REGISTRY | REGISTRY_AND_SHADOW
    connectivity_mode TEXT NOT NULL,       -- OFF | STATUS
    defender_mode TEXT NOT NULL,           -- OFF | VIOLATIONS
    named_shadow_mode TEXT NOT NULL,       -- OFF | ON
    named_shadows TEXT NOT NULL DEFAULT '[]', -- JSON array: filter.namedShadowNames
    geo_locations TEXT NOT NULL DEFAULT '[]', -- JSON array: filter.geoLocations
    thing_custom TEXT NOT NULL DEFAULT '[]',  -- JSON array of {name, type}
    group_mode TEXT NOT NULL,              -- OFF | ON
    group_custom TEXT NOT NULL DEFAULT '[]',  -- JSON array of {name, type}
    updated_ms INTEGER NOT NULL
);

CREATE TABLE connectivity (
    client_id TEXT PRIMARY KEY,
    connected INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,         -- the last connect or disconnect
    disconnect_reason TEXT,                -- NULL while connected or never disconnected
    version INTEGER NOT NULL
) WITHOUT ROWID;

-- SearchIndex narrows a query holding thingName:x or thingName:x* to the
-- things whose name matches ignoring case before it reads their fields.
CREATE INDEX things_by_name_nocase ON things (name COLLATE NOCASE);
