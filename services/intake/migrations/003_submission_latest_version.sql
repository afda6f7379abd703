-- The submission row counts its versions, so taking the next version is one atomic update
-- of the row every amendment of that center and round locks anyway.
ALTER TABLE submissions ADD COLUMN latest_version integer NOT NULL DEFAULT 0;
UPDATE submissions s SET latest_version = v.n
FROM (SELECT submission_id, max(version) AS n FROM submission_versions GROUP BY submission_id) v
WHERE v.submission_id = s.id;
