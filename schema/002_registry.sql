-- The IoT registry: things, static thing groups (a tree through parent_name)
-- and which things are in which groups. The plugin reads membership and
-- ancestry from here to target policies and security profiles at groups.
-- Attributes are JSON objects of string values, stored as text.

CREATE TABLE things (
    name TEXT PRIMARY KEY,
    thing_id TEXT NOT NULL UNIQUE,
    type_name TEXT,                        -- NULL = no thing type
    billing_group TEXT,                    -- NULL = none
    attributes TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL,
    created_ms INTEGER NOT NULL            -- emulated time
);

CREATE TABLE thing_groups (
    name TEXT PRIMARY KEY,
    group_id TEXT NOT NULL UNIQUE,
    -- No ON DELETE action: deleting a group that still has children fails.
    parent_name TEXT REFERENCES thing_groups (name),
    description TEXT,                      -- NULL = none
    attributes TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL,
    created_ms INTEGER NOT NULL            -- emulated time
);
CREATE INDEX thing_groups_by_parent ON thing_groups (parent_name);

CREATE TABLE thing_group_members (
    thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES thing_groups (name) ON DELETE CASCADE,
    PRIMARY KEY (thing_name, group_name)
) WITHOUT ROWID;
CREATE INDEX thing_group_members_by_group ON thing_group_members (group_name, thing_name);
