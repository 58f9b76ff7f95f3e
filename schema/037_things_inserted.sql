-- How many of config_changes were things inserted. When every change since
-- the broker's engine built its snapshots was one (the two counters moved
-- by the same amount), nothing but new rows of things changed, and the
-- engine adds those things, found by rowid, instead of rebuilding from
-- every thing and certificate: a fleet being registered one CreateThing at
-- a time no longer makes it rebuild again and again.
--
-- The trigger that counts a thing inserted in config_changes (store.c,
-- watch_config_tables) counts it here too, in the same UPDATE: a second
-- trigger on every CreateThing cost the server's writer more.
ALTER TABLE emulator_state ADD COLUMN things_inserted INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER IF EXISTS things_changes_I;
CREATE TRIGGER things_changes_I AFTER INSERT ON things BEGIN
UPDATE emulator_state SET config_changes = config_changes + 1,
    things_inserted = things_inserted + 1 WHERE id = 1;
END;
