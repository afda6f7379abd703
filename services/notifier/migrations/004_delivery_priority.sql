-- Messages waiting to be sent go by priority, then oldest first: a center's receipt before
-- results, results before reminders and summaries (Message.priority). In a burst of
-- reports the results of the first ones were queued ahead of the last ones' receipts.
ALTER TABLE deliveries ADD COLUMN priority smallint NOT NULL DEFAULT 2;
UPDATE deliveries SET priority = CASE kind WHEN 'receipt' THEN 0 WHEN 'result' THEN 1 ELSE 2 END
WHERE status = 'pending';
DROP INDEX deliveries_pending;
CREATE INDEX deliveries_pending ON deliveries (priority, next_attempt_at, id)
WHERE status = 'pending';
