-- The citizen survey's tallies (spec §11): for each center and round, how many respondents
-- gave each rating 1..5 to each question, folded from the responses exactly once (the inbox
-- holds the responses' event ids). Responses only ever add: a batch adds its counts to the
-- rows, so two talliers never lose each other's additions.
CREATE TABLE tally_totals (
    center_id        text NOT NULL,
    round_id         text NOT NULL,
    standard         text NOT NULL,
    responses        integer NOT NULL CHECK (responses >= 1),
    -- Grows by one with each batch that changed the tally: the revision of its event.
    revision         integer NOT NULL CHECK (revision >= 1),
    last_response_at timestamptz NOT NULL,
    tallied_at       timestamptz NOT NULL,
    PRIMARY KEY (center_id, round_id)
);

CREATE TABLE tallies (
    center_id     text NOT NULL,
    round_id      text NOT NULL,
    question_code text NOT NULL,
    -- counts[i]: respondents who gave rating i (1..5).
    counts        integer[] NOT NULL CHECK (cardinality(counts) = 5),
    PRIMARY KEY (center_id, round_id, question_code),
    FOREIGN KEY (center_id, round_id) REFERENCES tally_totals
);
