-- Outbox rows live for moments (the relay deletes them once Kafka has them): stored as they
-- are, not compressed. Measured with 2 kB events: an insert costs PostgreSQL about 25 us
-- less without pglz (about a third of it); a kept table would grow several times over.
ALTER TABLE outbox SET (toast_tuple_target = 8160);
