-- Event ids are random UUIDs made by the writer and nothing looks an outbox row up by its
-- event id (the relay reads by id, consumers de-duplicate in their inbox): its unique
-- index was one more index write for every event.
ALTER TABLE outbox DROP CONSTRAINT outbox_event_id_key;
