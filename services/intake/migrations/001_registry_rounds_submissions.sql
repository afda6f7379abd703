-- Certified centers and the office hierarchy they report through ('PMO/...' paths).
CREATE TABLE centers (
    id                   text PRIMARY KEY,
    name_th              text NOT NULL,
    name_en              text NOT NULL DEFAULT '',
    office_path          text NOT NULL,
    province             text NOT NULL DEFAULT '',
    certified_until      date,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX centers_office_path ON centers (office_path text_pattern_ops);

-- API credentials, stored as SHA-256 of the token: the token itself is shown once.
CREATE TABLE api_tokens (
    token_hash  bytea PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('center', 'office', 'operator')),
    center_id   text REFERENCES centers (id),
    office_path text,
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((kind = 'center') = (center_id IS NOT NULL)),
    CHECK ((kind = 'office') = (office_path IS NOT NULL))
);

-- Rounds and their dates are data: defaults come from the calendar, operators may change them.
CREATE TABLE rounds (
    id           text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('H1', 'FY')),
    fiscal_year  integer NOT NULL,
    period_start date NOT NULL,
    period_end   date NOT NULL,
    opens_at     timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    closes_at    timestamptz NOT NULL,
    CHECK (opens_at < due_at AND due_at <= closes_at)
);

-- One submission per center and round; every amendment is a new version, all are kept.
CREATE TABLE submissions (
    id         uuid PRIMARY KEY,
    center_id  text NOT NULL REFERENCES centers (id),
    round_id   text NOT NULL REFERENCES rounds (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (center_id, round_id)
);

CREATE TABLE submission_versions (
    submission_id  uuid NOT NULL REFERENCES submissions (id),
    version        integer NOT NULL CHECK (version >= 1),
    receipt_number text NOT NULL UNIQUE,
    received_at    timestamptz NOT NULL,
    late           boolean NOT NULL,
    body           jsonb NOT NULL,
    status         text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'scored')),
    verdict        text,
    scorecard      jsonb,
    scored_at      timestamptz,
    PRIMARY KEY (submission_id, version)
);
