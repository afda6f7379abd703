-- A signed-in browser: the cookie's hash, the credential intake issued for the account
-- (the portal calls intake with it), who it is, and until when.
CREATE TABLE sessions (
    id_hash       bytea PRIMARY KEY,
    intake_token  text NOT NULL,
    email         text NOT NULL,
    kind          text NOT NULL,
    center_id     text,
    office_path   text,
    display_name  text NOT NULL DEFAULT '',
    csrf_secret   bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- A report being written: one per center and round, shared by the center's accounts, kept
-- across sign-outs, never sent to scoring. ``revision`` grows with every change; the
-- Idempotency-Key of its submission is made of the draft's id and the revision reviewed.
-- Once sent, the key and intake's receipt stay with the draft, so the same form sent again
-- (a double click, a reload) gets the same receipt; a change makes it a draft again.
CREATE TABLE drafts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    center_id      text NOT NULL,
    round_id       text NOT NULL,
    fields         jsonb NOT NULL,
    revision       integer NOT NULL DEFAULT 1,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL,
    submitted_key  text,
    receipt        jsonb,
    UNIQUE (center_id, round_id)
);

-- What a browser posted after its session or form token had expired: kept briefly, bound
-- to that browser (a cookie's hash), and put back into the draft after the next sign-in.
CREATE TABLE kept_forms (
    browser_hash bytea NOT NULL,
    round_id     text NOT NULL,
    fields       jsonb NOT NULL,
    kept_at      timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (browser_hash, round_id)
);
