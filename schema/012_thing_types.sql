-- Thing types. A thing names its type in things.type_name; the row here
-- holds what DescribeThingType shows. seq is the creation order, the order
-- ListThingTypes answers in and pages by. properties is the
-- ThingTypeProperties object as the server printed it (description,
-- searchableAttributes, mqtt5Configuration). deprecated_ms is NULL while
-- the type takes new things, else the emulated time it was deprecated:
-- DeleteThingType waits five minutes from it.

CREATE TABLE thing_types (
    seq INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type_id TEXT NOT NULL UNIQUE,
    properties TEXT NOT NULL DEFAULT '{}',
    deprecated_ms INTEGER,                 -- NULL = takes new things; emulated time
    created_ms INTEGER NOT NULL            -- emulated time
);

-- Things could name any type before this table existed: give each such
-- name a type (a random version-4 UUID), so every thing's type can be
-- described, deprecated and deleted.
INSERT INTO thing_types (name, type_id, created_ms)
SELECT name,
       lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||
             substr(hex(randomblob(2)), 2) || '-' ||
             substr('89ab', 1 + (abs(random()) % 4), 1) ||
             substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
       created_ms
FROM (SELECT type_name AS name, min(created_ms) AS created_ms FROM things
      WHERE type_name IS NOT NULL GROUP BY type_name ORDER BY 2, 1);

-- DeleteThingType refuses a type that things still have.
CREATE INDEX things_by_type ON things (type_name);
