-- Corrections after an export are found by time instead of a shared marker row: the
-- received and scored consumers no longer write one row per round (which made their
-- batches deadlock on it).
ALTER TABLE submission_versions ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX submission_versions_changed ON submission_versions (round_id, changed_at);
DROP TABLE pending_corrections;

-- The latest change of a round that has been compared with what the PMO system holds.
CREATE TABLE correction_checks (
    round_id        text PRIMARY KEY,
    checked_through timestamptz NOT NULL
);
