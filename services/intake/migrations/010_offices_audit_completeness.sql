-- The names of the parent offices centers report through (gecc offices import): the office
-- and operator pages show กรุงเทพมหานคร, not PMO/BMA. An office without a row is shown by
-- its path.
CREATE TABLE offices (
    path    text PRIMARY KEY CHECK (path ~ '^PMO(/[A-Z0-9-]+)*$'),
    name_th text NOT NULL CHECK (length(name_th) > 0),
    name_en text NOT NULL CHECK (length(name_en) > 0)
);

-- The audit log searched by who acted (an e-mail, "operator:", "cli:"), newest first.
CREATE INDEX audit_log_actor ON audit_log (actor text_pattern_ops, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- Completeness reads each submission's first and latest version for late and verdict only:
-- carried in the primary key's index, those reads are index-only scans of a few MB instead
-- of the versions' pages with their reports (hundreds of MB for a large registry). The
-- same one index as before, so a submission costs no extra index write.
ALTER TABLE submission_versions
    DROP CONSTRAINT submission_versions_pkey,
    ADD CONSTRAINT submission_versions_pkey PRIMARY KEY (submission_id, version)
        INCLUDE (late, verdict);
