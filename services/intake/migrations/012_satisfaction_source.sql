-- The citizen survey's tallies as intake last saw them (SurveyTally, spec §11): per center
-- and round the one of the highest revision. A report whose satisfaction comes from the
-- citizen survey may not claim more responses than this tally has.
CREATE TABLE survey_tallies (
    center_id        text NOT NULL,
    round_id         text NOT NULL,
    responses        integer NOT NULL CHECK (responses >= 0),
    revision         bigint NOT NULL CHECK (revision >= 1),
    last_response_at timestamptz NOT NULL,
    tallied_at       timestamptz NOT NULL,
    PRIMARY KEY (center_id, round_id)
);

-- Where each version's satisfaction figures come from (its report's satisfaction.source),
-- for the version reads and the completeness lists: the kind, and the responses of a
-- citizen survey. Versions stored before are the center's own survey.
ALTER TABLE submission_versions
    ADD COLUMN satisfaction_source text NOT NULL DEFAULT 'center_survey'
        CHECK (satisfaction_source IN ('center_survey', 'citizen_survey')),
    ADD COLUMN survey_responses integer
        CHECK ((satisfaction_source = 'citizen_survey') = (survey_responses IS NOT NULL));
