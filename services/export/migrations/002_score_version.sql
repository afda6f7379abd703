-- Keep only the latest score version of each submission version (re-scores replace it).
ALTER TABLE submission_versions ADD COLUMN score_version integer;
