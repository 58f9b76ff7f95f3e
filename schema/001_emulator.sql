-- The emulator's own state: the clock both processes read, the plugin's
-- heartbeat the server reports in /_ddlocal/health, the reset generation,
-- and the sync generation that makes POST /_ddlocal/sync a barrier.

CREATE TABLE emulator_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mode TEXT NOT NULL CHECK (mode IN ('real', 'scaled', 'manual')),
    scale REAL NOT NULL,
    anchor_real_ms INTEGER NOT NULL,
    anchor_emulated_ms INTEGER NOT NULL
);

CREATE TABLE emulator_heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    written_real_ms INTEGER NOT NULL,    -- wall clock of the write, for freshness
    emulated_now_ms INTEGER NOT NULL,
    evaluated_until_ms INTEGER NOT NULL, -- every bucket ending at or before it is evaluated
    synced_generation INTEGER NOT NULL   -- the broker runs on every commit made before it
);

CREATE TABLE emulator_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    reset_generation INTEGER NOT NULL,   -- bumped by /_ddlocal/reset
    sync_generation INTEGER NOT NULL     -- bumped by /_ddlocal/sync and clock advances
);
INSERT INTO emulator_state (id, reset_generation, sync_generation) VALUES (1, 0, 0);
