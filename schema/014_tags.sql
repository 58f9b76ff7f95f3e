-- Resource tags (IoT TagResource and the create calls that take tags, SNS
-- TagResource and CreateTopic's Tags), keyed by the resource's ARN as the
-- tagging APIs name it. A tag's value may be empty, never NULL.
--
-- A resource's tags go with it in the statement that deletes it: one
-- trigger per taggable table, so every delete path (the API, a reset) drops
-- them in its own transaction. IoT rows are named by their ARN's tail,
-- ':<kind>/<name>' (no name of these kinds holds a '/', and an SNS topic
-- ARN has none); a database holds one partition, so the tail is enough. A
-- new taggable kind adds its trigger in the migration that creates its
-- table (thing types and billing groups came first, so theirs are here).

CREATE TABLE tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (arn, key)
) WITHOUT ROWID;

CREATE TRIGGER thing_groups_drop_tags AFTER DELETE ON thing_groups BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':thinggroup/' || OLD.name))
        = ':thinggroup/' || OLD.name;
END;

CREATE TRIGGER policies_drop_tags AFTER DELETE ON policies BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':policy/' || OLD.name)) = ':policy/' || OLD.name;
END;

CREATE TRIGGER security_profiles_drop_tags AFTER DELETE ON security_profiles BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':securityprofile/' || OLD.name))
        = ':securityprofile/' || OLD.name;
END;

CREATE TRIGGER mitigation_actions_drop_tags AFTER DELETE ON mitigation_actions BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':mitigationaction/' || OLD.name))
        = ':mitigationaction/' || OLD.name;
END;

CREATE TRIGGER dimensions_drop_tags AFTER DELETE ON dimensions BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':dimension/' || OLD.name))
        = ':dimension/' || OLD.name;
END;

CREATE TRIGGER custom_metrics_drop_tags AFTER DELETE ON custom_metrics BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':custommetric/' || OLD.name))
        = ':custommetric/' || OLD.name;
END;

CREATE TRIGGER thing_types_drop_tags AFTER DELETE ON thing_types BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':thingtype/' || OLD.name))
        = ':thingtype/' || OLD.name;
END;

CREATE TRIGGER billing_groups_drop_tags AFTER DELETE ON billing_groups BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':billinggroup/' || OLD.name))
        = ':billinggroup/' || OLD.name;
END;

CREATE TRIGGER sns_topics_drop_tags AFTER DELETE ON sns_topics BEGIN
    DELETE FROM tags WHERE arn = OLD.arn;
END;
