-- Evidence files (spec §10): the metadata of each file a center uploaded for a checklist
-- item of a round; the bytes are in object storage under evidence/sha256/<sha256>, shared
-- by every row with the same sha256 (the object goes when the last such row goes).
-- The same bytes for the same center, round and item are the same file (the unique key).
CREATE TABLE evidence_files (
    id           uuid PRIMARY KEY,
    center_id    text NOT NULL REFERENCES centers (id),
    round_id     text NOT NULL REFERENCES rounds (id),
    item_code    text NOT NULL CHECK (length(item_code) BETWEEN 1 AND 32),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL CHECK (size > 0),
    content_type text NOT NULL
        CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png', 'image/webp')),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    uploaded_at  timestamptz NOT NULL,
    uploaded_by  text NOT NULL,
    UNIQUE (center_id, round_id, item_code, sha256)
);
CREATE INDEX evidence_files_sha256 ON evidence_files (sha256);

-- Which files a submitted version references, by item: a version is immutable, so is this;
-- an amendment may reference the same files again. A file some version references cannot
-- be deleted (the foreign key, and the delete's own check for a clear 409).
CREATE TABLE version_evidence (
    submission_id uuid NOT NULL,
    version       integer NOT NULL,
    file_id       uuid NOT NULL REFERENCES evidence_files (id),
    item_code     text NOT NULL,
    PRIMARY KEY (submission_id, version, file_id),
    FOREIGN KEY (submission_id, version) REFERENCES submission_versions (submission_id, version)
);
CREATE INDEX version_evidence_file ON version_evidence (file_id);
