-- Wake the relay from the statement that writes outbox rows, so writers need no separate
-- pg_notify round trip. One notification per statement (delivered at commit); the channel
-- is the service's schema, as in shared.messaging.outbox.notify_channel.
CREATE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gecc_outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_wake_relay AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_relay();
