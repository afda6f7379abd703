-- The centers citizens answer for and the rounds their answers count for, kept from the
-- registry's and the calendar's events (compacted topics: the latest per key is current).
-- The public page reads them into memory; it never queries them per request.
CREATE TABLE centers (
    center_id   text PRIMARY KEY,
    name_th     text NOT NULL,
    name_en     text NOT NULL DEFAULT '',
    office_path text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rounds (
    round_id     text PRIMARY KEY,
    kind         text NOT NULL,
    period_start date NOT NULL,
    period_end   date NOT NULL,
    opens_at     timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    closes_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
