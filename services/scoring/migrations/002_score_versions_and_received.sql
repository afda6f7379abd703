-- A re-score after a corrected standard is a new score version of the same submission
-- version; the first scoring is score version 1.
ALTER TABLE scores ADD COLUMN score_version integer NOT NULL DEFAULT 1 CHECK (score_version >= 1);
ALTER TABLE scores DROP CONSTRAINT scores_pkey;
ALTER TABLE scores ADD PRIMARY KEY (submission_id, version, score_version);

-- What was received, so a round can be scored again without asking intake.
CREATE TABLE received_submissions (
    submission_id uuid NOT NULL,
    version       integer NOT NULL,
    center_id     text NOT NULL,
    round_id      text NOT NULL,
    received      jsonb NOT NULL,
    PRIMARY KEY (submission_id, version)
);
CREATE INDEX received_submissions_round ON received_submissions (round_id, center_id, version);
