-- The relay deletes a row once Kafka has acknowledged its event (Kafka keeps the events):
-- marking it published rewrote the whole row, payload included, for every event.
DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at;
