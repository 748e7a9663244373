-- Migration 3: Idempotency-Key on every POST, not only those that record case events.
CREATE TABLE idempotent_responses (
    council_id      uuid NOT NULL,
    key             text NOT NULL,
    request_hash    text NOT NULL,                 -- SHA-256 of method, path and body
    status          smallint NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, key)
);
ALTER TABLE idempotent_responses ENABLE ROW LEVEL SECURITY;
CREATE POLICY council_responses ON idempotent_responses USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
GRANT SELECT, INSERT ON idempotent_responses TO ehcp_app;
