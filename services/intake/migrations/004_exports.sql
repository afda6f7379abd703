-- Operators' export requests, and what the export service says of each export (from
-- ExportStatus events): intake only shows them (GET /v1/rounds/{id}/exports).
CREATE TABLE export_requests (
    request_id   uuid PRIMARY KEY,
    round_id     text NOT NULL REFERENCES rounds (id),
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL
);

CREATE TABLE exports (
    export_id            uuid PRIMARY KEY,
    round_id             text NOT NULL,
    kind                 text NOT NULL,
    trigger              text NOT NULL,
    request_id           uuid,
    state                text NOT NULL,
    records              integer NOT NULL,
    batches              integer NOT NULL,
    batches_acknowledged integer NOT NULL,
    attempts             integer NOT NULL,
    last_error           text,
    counts               jsonb NOT NULL,
    acknowledged         jsonb NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX exports_round ON exports (round_id, created_at);
