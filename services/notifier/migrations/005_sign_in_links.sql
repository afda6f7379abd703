-- Sign-in links (kind 'sign_in'): about no round, each the answer to one sign-in request,
-- queued once per request however often its event comes; not worth sending after the link
-- expires. Their body holds the one-time link until the message is sent or given up on.
ALTER TABLE deliveries ALTER COLUMN round_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN request_id uuid;
ALTER TABLE deliveries ADD COLUMN expires_at timestamptz;
CREATE UNIQUE INDEX deliveries_request ON deliveries (request_id) WHERE request_id IS NOT NULL;

-- They go before everything else: receipts move from 0 to 1, results to 2, the rest to 3.
UPDATE deliveries SET priority = priority + 1 WHERE status = 'pending';
ALTER TABLE deliveries ALTER COLUMN priority SET DEFAULT 3;
