-- The relay's doorbell: writers notify only while the relay waits for them.
--
-- A NOTIFY takes a database-wide lock at commit that is held until the commit is flushed,
-- so notifying transactions commit one after another; with a NOTIFY in every submission
-- that cost intake about a fifth of its rate (docs/benchmarks.md). While rows keep coming
-- the relay polls (every GECC_<SERVICE>_OUTBOX_BUSY_POLL_MS) and leaves the bell off;
-- when a look finds nothing it turns the bell on, looks once more and sleeps until a
-- writer rings or its fallback poll comes.
CREATE TABLE outbox_relay (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    waiting  boolean NOT NULL DEFAULT true
);
INSERT INTO outbox_relay DEFAULT VALUES;

CREATE OR REPLACE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM outbox_relay WHERE waiting) THEN
        PERFORM pg_notify('gecc_outbox_' || TG_TABLE_SCHEMA, '');
    END IF;
    RETURN NULL;
END
$$;
