-- Delivery policies run on the emulator's clock: a retry a subscription's
-- (or its topic's) DeliveryPolicy schedules is due at this emulated time as
-- well as at next_attempt_real_ms. NULL: only the real time counts (the
-- launcher's --retry-delay-ms, and every first attempt).
ALTER TABLE sns_deliveries ADD COLUMN next_attempt_ms INTEGER;
