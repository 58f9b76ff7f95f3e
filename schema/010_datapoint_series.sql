-- Datapoints keyed by an integer series, one per (thing, profile, behavior).
-- A window close of a large fleet appends one datapoint per thing and
-- behavior; with the three names in every row and in the index, SQLite
-- wrote about 60 bytes of index and 45 of row text per datapoint more than
-- it needs to. A series row is written once, the first time a behavior is
-- judged for a thing, and is kept after retention prunes its datapoints
-- (the engine caches its id).

CREATE TABLE datapoint_series (
    id INTEGER PRIMARY KEY,
    thing_name TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    behavior_name TEXT NOT NULL,
    UNIQUE (thing_name, profile_name, behavior_name)
);

-- Every evaluation state gets its series too, even one whose datapoints
-- retention has pruned: the engine reads a state only for a series that
-- already existed.
INSERT INTO datapoint_series (thing_name, profile_name, behavior_name)
SELECT thing_name, profile_name, behavior_name FROM datapoints
UNION
SELECT thing_name, profile_name, behavior_name FROM behavior_states;

CREATE TABLE datapoints_by_series (
    id INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL REFERENCES datapoint_series (id),
    time_ms INTEGER NOT NULL,              -- bucket end (cloud-side) or report time
    value TEXT NOT NULL,                   -- MetricValue JSON
    threshold REAL,                        -- resolved statistical/ML threshold, if any
    verdict TEXT NOT NULL             -- an IN list would cost a temporary table per insert
        CHECK (verdict = 'compliant' OR verdict = 'violating' OR verdict = 'no-verdict'),
    streak_violating INTEGER NOT NULL,     -- the counters after this datapoint
    streak_compliant INTEGER NOT NULL,
    event TEXT                             -- the transition it caused, if any
);

-- Keep the row ids: retention bisects them (they follow emulated time).
INSERT INTO datapoints_by_series (id, series_id, time_ms, value, threshold, verdict,
                                  streak_violating, streak_compliant, event)
SELECT d.id, s.id, d.time_ms, d.value, d.threshold, d.verdict, d.streak_violating,
       d.streak_compliant, d.event
FROM datapoints d JOIN datapoint_series s
  ON s.thing_name = d.thing_name AND s.profile_name = d.profile_name
 AND s.behavior_name = d.behavior_name;

DROP TABLE datapoints;
ALTER TABLE datapoints_by_series RENAME TO datapoints;
CREATE INDEX datapoints_by_series_time ON datapoints (series_id, time_ms);
