-- Contact addresses from the registry file (reminders and results go there).
ALTER TABLE centers ADD COLUMN contact_emails text[] NOT NULL DEFAULT '{}';

-- Tokens get an id to list and revoke them by, and a visible prefix to recognise them.
ALTER TABLE api_tokens ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE;
ALTER TABLE api_tokens ADD COLUMN prefix text NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN revoked_by text;

-- Who did what, when and from where: every operator action and every submission.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    target      text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    remote_addr text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_target ON audit_log (target, at);

-- An operator lets one center submit to a round after it closed, until a given time.
CREATE TABLE extensions (
    round_id   text NOT NULL REFERENCES rounds (id),
    center_id  text NOT NULL REFERENCES centers (id),
    until      timestamptz NOT NULL,
    reason     text NOT NULL CHECK (length(reason) > 0),
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (round_id, center_id)
);

-- The answer to each (center, Idempotency-Key): a repeated request gets it again.
CREATE TABLE idempotency_keys (
    center_id       text NOT NULL REFERENCES centers (id),
    idempotency_key text NOT NULL,
    request_hash    bytea NOT NULL,
    response        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (center_id, idempotency_key)
);

ALTER TABLE submission_versions ADD COLUMN extension boolean NOT NULL DEFAULT false;
