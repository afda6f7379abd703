-- One score per submission version, whatever Kafka redelivers.
CREATE TABLE scores (
    submission_id        uuid NOT NULL,
    version              integer NOT NULL,
    center_id            text NOT NULL,
    round_id             text NOT NULL,
    standard             text NOT NULL,
    standard_version     integer NOT NULL,
    satisfaction_percent numeric(5, 2) NOT NULL,
    checklist_percent    numeric(5, 2) NOT NULL,
    verdict              text NOT NULL CHECK (verdict IN ('maintained', 'at_risk', 'not_maintained')),
    scorecard            jsonb NOT NULL,
    received_event_id    uuid NOT NULL,
    scored_at            timestamptz NOT NULL,
    PRIMARY KEY (submission_id, version)
);
CREATE INDEX scores_round_center ON scores (round_id, center_id);
