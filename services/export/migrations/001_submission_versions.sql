-- The export's own copy of every submission version and its score, from events, so a
-- round's dataset is built without reading other services' tables.
CREATE TABLE submission_versions (
    submission_id        uuid NOT NULL,
    version              integer NOT NULL,
    center_id            text NOT NULL,
    round_id             text NOT NULL,
    received_at          timestamptz,
    late                 boolean,
    satisfaction_percent numeric(5, 2),
    checklist_percent    numeric(5, 2),
    verdict              text,
    reasons              jsonb,
    scored_at            timestamptz,
    PRIMARY KEY (submission_id, version)
);
CREATE INDEX submission_versions_round ON submission_versions (round_id, center_id);
