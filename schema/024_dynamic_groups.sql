-- Dynamic thing groups: a thing group whose membership follows a fleet
-- indexing query. They share the thing_groups table (one name space, one
-- ARN form, as in AWS) and keep their members in thing_group_members like
-- static groups, so the Detect targeting and the per-thing limit see both
-- kinds; only the writer differs (the membership upkeep instead of
-- AddThingToThingGroup). A group with query_string NULL is static.
ALTER TABLE thing_groups ADD COLUMN query_string TEXT;  -- as sent; NULL = static
ALTER TABLE thing_groups ADD COLUMN index_name TEXT;    -- AWS_Things
ALTER TABLE thing_groups ADD COLUMN query_version TEXT; -- 2017-09-30
ALTER TABLE thing_groups ADD COLUMN status TEXT;        -- ACTIVE | BUILDING | REBUILDING

-- Which things changed since the last upkeep of the dynamic groups: every
-- write the fleet index reads (the registry row, shadows, the broker's
-- connectivity record, Detect's violations) marks its thing, while any
-- dynamic group exists, so the upkeep at a window close matches only those
-- things (docs/fleet-indexing.md, "How membership is kept"). Shadows and
-- violations are never deleted (a deleted shadow is a row without a
-- document), so inserts and updates are all there is to follow.
CREATE INDEX thing_groups_dynamic ON thing_groups (name) WHERE query_string IS NOT NULL;
CREATE TABLE dyngroup_dirty (thing_name TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TRIGGER dyngroup_dirty_thing_insert AFTER INSERT ON things
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL)
BEGIN INSERT OR IGNORE INTO dyngroup_dirty VALUES (NEW.name); END;
CREATE TRIGGER dyngroup_dirty_thing_update AFTER UPDATE ON things
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL)
BEGIN INSERT OR IGNORE INTO dyngroup_dirty VALUES (NEW.name); END;
CREATE TRIGGER dyngroup_dirty_shadow_insert AFTER INSERT ON shadows
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL)
BEGIN INSERT OR IGNORE INTO dyngroup_dirty VALUES (NEW.thing_name); END;
CREATE TRIGGER dyngroup_dirty_shadow_update AFTER UPDATE ON shadows
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL)
BEGIN INSERT OR IGNORE INTO dyngroup_dirty VALUES (NEW.thing_name); END;
CREATE TRIGGER dyngroup_dirty_conn_insert AFTER INSERT ON connectivity
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL)
BEGIN INSERT OR IGNORE INTO dyngroup_dirty VALUES (NEW.client_id); END;
CREATE TRIGGER dyngroup_dirty_conn_update AFTER UPDATE ON connectivity
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL)
BEGIN INSERT OR IGNORE INTO dyngroup_dirty VALUES (NEW.client_id); END;
CREATE TRIGGER dyngroup_dirty_violation_insert AFTER INSERT ON violations
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL)
BEGIN INSERT OR IGNORE INTO dyngroup_dirty VALUES (NEW.thing_name); END;
CREATE TRIGGER dyngroup_dirty_violation_update AFTER UPDATE ON violations
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL)
BEGIN INSERT OR IGNORE INTO dyngroup_dirty VALUES (NEW.thing_name); END;
