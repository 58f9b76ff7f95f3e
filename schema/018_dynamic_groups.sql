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
