-- ML Detect models (core/mlmodel.h): one row per (security profile, ML
-- behavior), written by the engine at each window close and read by
-- GetBehaviorModelTrainingSummaries. Times are emulated epoch milliseconds;
-- 0 means "not yet". slots holds the datapoint counts of the trailing
-- training period as "start:n" pairs, so a restart resumes the count.
CREATE TABLE ml_models (
    profile_name TEXT NOT NULL,
    behavior_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('PENDING_BUILD', 'ACTIVE', 'EXPIRED')),
    start_ms INTEGER NOT NULL,             -- trainingDataCollectionStartDate
    refresh_ms INTEGER NOT NULL,           -- lastModelRefreshDate
    checked_ms INTEGER NOT NULL,           -- the last check applied
    last_data_ms INTEGER NOT NULL,
    percentage REAL NOT NULL,              -- datapointsCollectionPercentage when written
    slots TEXT NOT NULL,
    PRIMARY KEY (profile_name, behavior_name)
);

-- The normal band an ML verdict judged the value against (the teaching view).
ALTER TABLE datapoints ADD COLUMN band_lo REAL;
ALTER TABLE datapoints ADD COLUMN band_hi REAL;
