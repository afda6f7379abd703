-- The notifier's own view of who has submitted for which round (from submission events),
-- so reminders go only to centers that have not; and the results to tell centers about.
CREATE TABLE round_submissions (
    round_id          text NOT NULL,
    center_id         text NOT NULL,
    first_received_at timestamptz NOT NULL,
    latest_version    integer NOT NULL,
    late              boolean NOT NULL,
    PRIMARY KEY (round_id, center_id)
);

CREATE TABLE submission_results (
    submission_id uuid NOT NULL,
    version       integer NOT NULL,
    center_id     text NOT NULL,
    round_id      text NOT NULL,
    verdict       text NOT NULL,
    scored_at     timestamptz NOT NULL,
    PRIMARY KEY (submission_id, version)
);
