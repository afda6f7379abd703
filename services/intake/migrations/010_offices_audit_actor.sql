-- The names of the parent offices centers report through (gecc offices import): the office
-- and operator pages show กรุงเทพมหานคร, not PMO/BMA. An office without a row is shown by
-- its path.
CREATE TABLE offices (
    path    text PRIMARY KEY CHECK (path ~ '^PMO(/[A-Z0-9-]+)*$'),
    name_th text NOT NULL CHECK (length(name_th) > 0),
    name_en text NOT NULL CHECK (length(name_en) > 0)
);

-- The audit log searched by who acted (an e-mail, "operator:", "cli:"), newest first.
CREATE INDEX audit_log_actor ON audit_log (actor text_pattern_ops, id);
CREATE INDEX audit_log_at ON audit_log (at);
