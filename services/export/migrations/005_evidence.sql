-- Each submission version's evidence files (SubmissionReceived schema version 2; a
-- version-1 event has none): item, name, type, size and SHA-256, as the export lists them.
ALTER TABLE submission_versions ADD COLUMN evidence jsonb NOT NULL DEFAULT '[]';

-- A full export's evidence package: the files of the round's latest versions, delivered to
-- the PMO system file by file (each in resumable parts), then its manifest.
ALTER TABLE exports ADD COLUMN evidence_manifest_call bytea;

CREATE TABLE evidence_files (
    export_id    uuid NOT NULL REFERENCES exports (id),
    sha256       text NOT NULL,
    size         bigint NOT NULL,
    content_type text NOT NULL,
    -- The receiver verified the assembled file's SHA-256.
    delivered_at timestamptz,
    -- Times the receiver found the assembled file's SHA-256 different.
    mismatches   integer NOT NULL DEFAULT 0,
    -- Given up on (mismatch after every try, or not in object storage): why.
    refused      text,
    PRIMARY KEY (export_id, sha256)
);
