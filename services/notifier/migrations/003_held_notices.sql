-- Receipts and results whose center (or round) the notifier does not know yet: the events
-- of different topics arrive in no fixed order. Released when the center or round arrives.
CREATE TABLE held_notices (
    id        bigserial PRIMARY KEY,
    center_id text NOT NULL,
    round_id  text NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('receipt', 'result')),
    event     jsonb NOT NULL,
    held_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX held_notices_center ON held_notices (center_id);
CREATE INDEX held_notices_round ON held_notices (round_id);
