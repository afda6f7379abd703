-- A receipt number is the round, the center and the version ("FY2570-H1/C0001/v2"): unique
-- already by (center_id, round_id) of submissions and the version's primary key, and never
-- looked up by itself, so its own unique index was one more write per submission.
ALTER TABLE submission_versions DROP CONSTRAINT submission_versions_receipt_number_key;
-- Report bodies (about 2.6 kB as jsonb) were compressed on every insert (pglz was 4 % of
-- PostgreSQL's time under load); stored as they are up to a page, they take about twice
-- the space: some megabytes a year for every center's versions.
ALTER TABLE submission_versions SET (toast_tuple_target = 8160);
