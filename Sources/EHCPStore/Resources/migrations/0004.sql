-- Migration 4: the access log keeps the server's request id, with a client's X-Request-Id only beside
-- it, and an erasure's reason as data rather than inside the actor's name.
ALTER TABLE access_log ADD COLUMN client_request_id text, ADD COLUMN reason text;
