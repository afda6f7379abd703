-- An account's address is kept in lower case (services/intake/domain/accounts.account_email):
-- Saraban@x.go.th and saraban@x.go.th are one account, whichever way a person types it.
UPDATE accounts SET email = lower(email) WHERE email <> lower(email);
ALTER TABLE accounts ADD CHECK (email = lower(email));
