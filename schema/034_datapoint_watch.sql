-- Which things keep every judged datapoint when the fleet is over the
-- datapoint budget (plugin_opt_datapoint_budget, docs/performance.md
-- "A million things"). A thing is kept while it is watched (PUT
-- /_ddlocal/watch/{thingName}) or for an emulated hour after a teaching view
-- or ListMetricValues last read it (inspected_ms). The engine reads the
-- table once per window close; it stays small (only things someone looked
-- at), so that read costs nothing next to the window.
CREATE TABLE datapoint_watch (
    thing_name TEXT PRIMARY KEY,
    watched INTEGER NOT NULL DEFAULT 0,   -- 1 while explicitly watched
    watched_ms INTEGER,                   -- when it was watched (emulated)
    inspected_ms INTEGER                  -- the last read of its datapoints (emulated)
) WITHOUT ROWID;
