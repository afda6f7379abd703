-- Every intake process caches known credentials for a few seconds; a revocation must count
-- at once in all of them. The database tells each process which credential went (its hash)
-- in the transaction that revokes or deletes it (services/intake/adapters/revocations.py).
CREATE OR REPLACE FUNCTION notify_credentials_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gecc_credentials_revoked', encode(OLD.token_hash, 'hex'));
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_revoked
    AFTER UPDATE OF revoked_at ON api_tokens
    FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL)
    EXECUTE FUNCTION notify_credentials_revoked();

CREATE TRIGGER api_tokens_deleted
    AFTER DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_credentials_revoked();
