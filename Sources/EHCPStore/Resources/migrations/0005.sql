-- Migration 5: the database is the boundary. Row-level security binds the tables' owner too, and the one
-- SECURITY DEFINER function cannot be steered by objects a caller puts in pg_temp or another schema.
ALTER TABLE access_log FORCE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE children FORCE ROW LEVEL SECURITY;
ALTER TABLE case_streams FORCE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotent_responses FORCE ROW LEVEL SECURITY;
ALTER TABLE case_summary FORCE ROW LEVEL SECURITY;
ALTER TABLE deadlines FORCE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
ALTER TABLE alerts FORCE ROW LEVEL SECURITY;
ALTER TABLE webhook_subscriptions FORCE ROW LEVEL SECURITY;
ALTER FUNCTION ehcp_authenticate(text) SET search_path = pg_catalog, public, pg_temp;
GRANT SELECT ON schema_migrations TO ehcp_app;
