-- Retained metric values and metrics export (Detect).
--
-- A profile's metricsExportConfig {mqttTopic, roleArn}, as given, or NULL.
ALTER TABLE security_profiles ADD COLUMN metrics_export TEXT;

-- Retained values reuse datapoint_series and datapoints: one series per
-- thing with profile_name and behavior_name both '' (no profile or behavior
-- has an empty name), and one datapoint per thing and window (or device
-- report) whose value is a JSON object holding every retained metric of
-- the thing at once, keyed "metric" or "metric|dimension|IN|NOT_IN":
-- {"aws:num-messages-sent":{"count":3},"aws:message-byte-size|T|IN":{...}}.
-- One row per thing and window instead of one per metric keeps a large
-- fleet's window close to one more row per thing; retention prunes them
-- with the judged datapoints.
