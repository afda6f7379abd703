-- The export's copy of the registry (from CenterRegistered): every certified center is a
-- record of the round's dataset, also the ones that never submitted.
CREATE TABLE centers (
    id              text PRIMARY KEY,
    name_th         text NOT NULL,
    name_en         text NOT NULL DEFAULT '',
    office_path     text NOT NULL,
    province        text NOT NULL DEFAULT '',
    certified_until date,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE submission_versions ADD COLUMN receipt_number text;

-- One export of a round: a full one at close (and on an operator's request), a delta for
-- corrections after that. Its batches are fixed when it is built, so a resumed delivery
-- sends exactly the same bytes under the same Idempotency-Keys.
CREATE TABLE exports (
    id              uuid PRIMARY KEY,
    round_id        text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('full', 'delta')),
    trigger         text NOT NULL CHECK (trigger IN ('round_closed', 'operator', 'correction')),
    request_id      uuid UNIQUE,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivering', 'reconciled', 'mismatch',
                                     'failed')),
    records         integer NOT NULL DEFAULT 0,
    batches         integer NOT NULL DEFAULT 0,
    batches_acked   integer NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    counts          jsonb NOT NULL DEFAULT '{}',
    acknowledged    jsonb NOT NULL DEFAULT '{}',
    manifest        jsonb,
    manifest_call   bytea,
    directory       text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
-- A round closes once: one full export for it, however often the event is redelivered.
CREATE UNIQUE INDEX exports_one_per_close ON exports (round_id) WHERE trigger = 'round_closed';
CREATE INDEX exports_due ON exports (next_attempt_at) WHERE state IN ('pending', 'delivering');

CREATE TABLE export_batches (
    export_id       uuid NOT NULL REFERENCES exports (id),
    number          integer NOT NULL,
    idempotency_key text NOT NULL,
    records         integer NOT NULL,
    body            bytea NOT NULL,
    acked_at        timestamptz,
    PRIMARY KEY (export_id, number)
);

-- What the PMO system holds of each center's record (its fingerprint), to send only what
-- changed after that as a delta; and the rounds with changes not exported yet.
CREATE TABLE exported_records (
    round_id    text NOT NULL,
    center_id   text NOT NULL,
    fingerprint text NOT NULL,
    export_id   uuid NOT NULL,
    PRIMARY KEY (round_id, center_id)
);

CREATE TABLE pending_corrections (
    round_id   text PRIMARY KEY,
    changed_at timestamptz NOT NULL
);

-- The fingerprints of the records an export carries, applied to exported_records once the
-- PMO system acknowledged the export.
CREATE TABLE export_fingerprints (
    export_id   uuid NOT NULL REFERENCES exports (id),
    center_id   text NOT NULL,
    fingerprint text NOT NULL,
    PRIMARY KEY (export_id, center_id)
);
