-- A shadow update no longer counts as a change of the broker's
-- configuration (schema/033_config_changes.sql): the engine builds nothing
-- of its snapshots from a shadow, yet under UpdateThingShadow without
-- pause it rebuilt them again and again, beside the server. What a shadow
-- does matter to, the members of dynamic groups whose queries name shadow
-- fields, follows at the window close, from the things listed in
-- dyngroup_dirty (schema/024_dynamic_groups.sql), not from this count.
DROP TRIGGER IF EXISTS shadows_changes_I;
DROP TRIGGER IF EXISTS shadows_changes_U;
DROP TRIGGER IF EXISTS shadows_changes_D;
