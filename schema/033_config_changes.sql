-- A counter of the commits the broker's engine must rebuild its
-- configuration for (things, certificates, policies, groups, profiles,
-- the fleet index's inputs...). Another process's commit used to make the
-- engine rebuild everything, so an audit writing its findings or a queue
-- taking messages rebuilt a snapshot of every certificate. Triggers that
-- bump it are made by the store after each migration (store.c,
-- watch_config_tables) on every table not in its list of tables the
-- engine does not read then, so a table added later is watched unless it
-- is named there.
ALTER TABLE emulator_state ADD COLUMN config_changes INTEGER NOT NULL DEFAULT 0;
