-- A repeated request is answered from the version it created: the key row points at it
-- instead of holding a copy of the answer, so accepting a submission writes the row once.
-- Rows written before keep their copied answer in "response".
ALTER TABLE idempotency_keys ADD COLUMN submission_id uuid;
ALTER TABLE idempotency_keys ADD COLUMN version integer;
