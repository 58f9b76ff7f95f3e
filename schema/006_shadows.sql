-- Device shadows: one row per (thing, shadow name), '' being the classic
-- shadow. Both doors (the server's REST API and the plugin's MQTT topics)
-- read and write a row in one BEGIN IMMEDIATE transaction. A deleted shadow
-- keeps its row with document NULL so the next update continues the version
-- sequence (a tombstone). Times are emulated epoch seconds.
CREATE TABLE shadows (
    thing_name TEXT NOT NULL,
    shadow_name TEXT NOT NULL,             -- '' = classic shadow
    version INTEGER NOT NULL,
    document TEXT,                         -- stored text of core/shadow.h, NULL when deleted
    created_s INTEGER NOT NULL,            -- when the current incarnation was created
    updated_s INTEGER NOT NULL,            -- last update or the deletion
    PRIMARY KEY (thing_name, shadow_name)
) WITHOUT ROWID;
