-- Billing groups (CreateBillingGroup and its family). A thing is in at most
-- one billing group, so membership is the things.billing_group column that
-- 002 already has; this index serves ListThingsInBillingGroup and the
-- clean-up when a group is deleted.

CREATE TABLE billing_groups (
    name TEXT PRIMARY KEY,
    group_id TEXT NOT NULL UNIQUE,
    description TEXT,                      -- NULL = none
    version INTEGER NOT NULL,
    created_ms INTEGER NOT NULL            -- emulated time
);

CREATE INDEX things_by_billing_group ON things (billing_group, name);

-- Deleting a group takes its things out of it, whatever deletes the row.
CREATE TRIGGER billing_groups_release_things AFTER DELETE ON billing_groups
BEGIN
    UPDATE things SET billing_group = NULL WHERE billing_group = old.name;
END;
