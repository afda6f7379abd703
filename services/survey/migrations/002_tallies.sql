-- The citizen survey's tallies (spec §11): for each center and round, how many respondents
-- gave each rating 1..5 to each question of the standard, folded from the responses exactly
-- once (the inbox holds the responses' event ids).
--
-- One row per center and round, the questions' counts side by side: a batch of responses
-- from many centers writes one row per tally it changes (a row per question was eight times
-- the writes, the tallier's largest cost). Responses only ever add: a batch adds its counts
-- to the row, so two talliers never lose each other's additions.
CREATE TABLE tallies (
    center_id        text NOT NULL,
    round_id         text NOT NULL,
    standard         text NOT NULL,
    -- The standard's question codes, in its order.
    questions        text[] NOT NULL,
    -- counts[5 * (q - 1) + r]: respondents who gave question q (of questions) rating r.
    counts           integer[] NOT NULL CHECK (cardinality(counts) = 5 * cardinality(questions)),
    responses        integer NOT NULL CHECK (responses >= 1),
    -- Grows by one with each batch that changed the tally: the revision of its event.
    revision         integer NOT NULL CHECK (revision >= 1),
    last_response_at timestamptz NOT NULL,
    tallied_at       timestamptz NOT NULL,
    PRIMARY KEY (center_id, round_id)
);
