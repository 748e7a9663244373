-- Migration 7: passwords for the web pages, kept as scrypt hashes (PasswordHash) that the service's
-- role can never read: its SELECT on users names every other column instead of the table.
ALTER TABLE users ADD COLUMN password_hash text;
REVOKE SELECT ON users FROM ehcp_app;
GRANT SELECT (user_id, council_id, name, role, team, created_at, disabled_at) ON users TO ehcp_app;
