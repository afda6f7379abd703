-- People who sign in to the portal (spec §9): an account is an e-mail address, normalized
-- (shared/email_addresses.py). A disabled account cannot sign in and has no session left.
CREATE TABLE accounts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text NOT NULL UNIQUE,
    enabled           boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    disabled_at       timestamptz,
    disabled_by       text,
    last_signed_in_at timestamptz,
    CHECK (enabled = (disabled_at IS NULL))
);

-- What an account may act as: a center (every contact address of the registry, kept in step
-- by `gecc centers import`), an office's subtree or the operators (`gecc accounts import`).
-- ``scope`` is how the API names it: center:GECC-0001, office:PMO/BMA, operators.
CREATE TABLE memberships (
    account_id  uuid NOT NULL REFERENCES accounts (id),
    role        text NOT NULL CHECK (role IN ('center', 'office', 'operator')),
    center_id   text REFERENCES centers (id),
    office_path text,
    source      text NOT NULL CHECK (source IN ('registry', 'import')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    scope       text NOT NULL GENERATED ALWAYS AS (
        CASE role WHEN 'center' THEN 'center:' || center_id
                  WHEN 'office' THEN 'office:' || office_path
                  ELSE 'operators' END) STORED,
    PRIMARY KEY (account_id, scope),
    CHECK ((role = 'center') = (center_id IS NOT NULL)),
    CHECK ((role = 'office') = (office_path IS NOT NULL))
);
CREATE INDEX memberships_center ON memberships (center_id) WHERE center_id IS NOT NULL;

-- A session is an API token of an account, acting as one of its memberships, until
-- expires_at. Removing the membership removes its sessions (and migration 007's trigger
-- drops them from every intake process's cache).
ALTER TABLE api_tokens ADD COLUMN account_id uuid;
ALTER TABLE api_tokens ADD COLUMN scope text;
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD FOREIGN KEY (account_id, scope)
    REFERENCES memberships (account_id, scope) ON DELETE CASCADE;
ALTER TABLE api_tokens ADD CHECK (
    (account_id IS NULL AND scope IS NULL AND expires_at IS NULL)
    OR (account_id IS NOT NULL AND scope IS NOT NULL AND expires_at IS NOT NULL));
CREATE INDEX api_tokens_account ON api_tokens (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX api_tokens_expiry ON api_tokens (expires_at) WHERE expires_at IS NOT NULL;

-- One-time sign-in codes, as their SHA-256: valid until expires_at, once.
CREATE TABLE sign_in_codes (
    code_hash    bytea PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts (id),
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX sign_in_codes_expiry ON sign_in_codes (expires_at);

-- Sign-in requests by address (the SHA-256 of the normalized address, known or not): the
-- budget every intake process shares. Rows older than the budget's window are deleted.
CREATE TABLE sign_in_requests (
    address_hash bytea NOT NULL,
    requested_at timestamptz NOT NULL
);
CREATE INDEX sign_in_requests_address ON sign_in_requests (address_hash, requested_at);
CREATE INDEX sign_in_requests_at ON sign_in_requests (requested_at);
