-- Retained counters carried by judged datapoints (Detect).
--
-- A cloud-side counter without a dimension that a behavior judges need not
-- be repeated in the thing's row of retained values (schema/020): the
-- behavior's datapoint for that bucket carries the bucket's total in two
-- typed columns, retained_metric (core/export.h enum export_counter:
-- 1 aws:num-messages-sent, 2 aws:num-messages-received,
-- 3 aws:num-authorization-failures, 4 aws:num-connection-attempts,
-- 5 aws:num-disconnects) and retained_count. At most one datapoint of a
-- thing carries a counter at one time; ListMetricValues reads the carried
-- totals and the retained rows together. The judged value itself may be
-- over a longer duration, so it is not the retained value.
ALTER TABLE datapoints ADD COLUMN retained_metric INTEGER;
ALTER TABLE datapoints ADD COLUMN retained_count INTEGER;
