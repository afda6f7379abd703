-- The notifier's copies of intake's calendar and registry (from RoundScheduled and
-- CenterRegistered events): the round clock and the reminders work from these.
CREATE TABLE rounds (
    id         text PRIMARY KEY,
    opens_at   timestamptz NOT NULL,
    due_at     timestamptz NOT NULL,
    closes_at  timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE centers (
    id             text PRIMARY KEY,
    name_th        text NOT NULL,
    name_en        text NOT NULL DEFAULT '',
    office_path    text NOT NULL,
    contact_emails text[] NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX centers_office_path ON centers (office_path);

-- Who else hears from the notifier: parent offices ('office:PMO/...'), the operators
-- ('operators'), and any center or office system that asked for webhooks ('center:ID').
CREATE TABLE recipients (
    owner   text NOT NULL CHECK (owner = 'operators' OR owner LIKE 'office:PMO%'
                                 OR owner LIKE 'center:%'),
    channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
    address text NOT NULL,
    secret  text,
    PRIMARY KEY (owner, channel, address),
    CHECK ((channel = 'webhook') = (secret IS NOT NULL))
);

-- The round clock's ledger: each moment of each round happens once, whichever notifier
-- process gets there first; a moment missed while down and pointless by now is 'skipped'.
CREATE TABLE clock_ledger (
    round_id    text NOT NULL,
    tick        text NOT NULL,
    days_before integer NOT NULL,
    moment      timestamptz NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('fired', 'skipped')),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (round_id, tick, days_before)
);

-- The delivery ledger: one row per message and channel, never two for the same
-- (channel, recipient, round, kind, sequence); the sender works through the pending ones.
CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    delivery_id     uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient       text NOT NULL,
    round_id        text NOT NULL,
    kind            text NOT NULL,
    sequence        integer NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    data            jsonb NOT NULL,
    submission_id   uuid,
    version         integer,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (channel, recipient, round_id, kind, sequence)
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE status = 'pending';
