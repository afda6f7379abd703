-- Where each version's satisfaction figures come from (SubmissionReceived schema version 3,
-- spec §11): the center's own survey, or the citizen survey with its responses. Versions
-- of older events are the center's own survey.
ALTER TABLE submission_versions
    ADD COLUMN satisfaction_source text NOT NULL DEFAULT 'center_survey',
    ADD COLUMN survey_responses integer;
