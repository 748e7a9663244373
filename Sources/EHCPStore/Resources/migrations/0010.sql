-- Migration 10: deadline alerts by email. People get an address (set by an administrator with the
-- owner's login, never by the service) and three choices of their own: an email on a breach, an email
-- on a reminder, and a daily digest. Emails go through the same outbox as webhooks, in the same
-- transaction as their alert, under a channel; digests are one row per person per day.
ALTER TABLE users ADD COLUMN email text CHECK (email IS NULL OR (length(email) <= 254 AND email ~ '^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$'));
ALTER TABLE users ADD COLUMN email_on_breach boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN email_on_reminder boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN email_digest boolean NOT NULL DEFAULT true;
-- A permanent failure to deliver (a bounced address), shown to the person and their manager until the
-- address is changed.
ALTER TABLE users ADD COLUMN email_failed_at timestamptz;
ALTER TABLE users ADD COLUMN email_failure text;
GRANT SELECT (email, email_on_breach, email_on_reminder, email_digest, email_failed_at, email_failure) ON users TO ehcp_app;
GRANT UPDATE (email_on_breach, email_on_reminder, email_digest, email_failed_at, email_failure) ON users TO ehcp_app;

ALTER TABLE outbox ADD COLUMN channel text NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook', 'email'));
ALTER TABLE outbox ALTER COLUMN subscription_id DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN alert_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN recipient text;          -- email: the user's name; the address is read when sending
ALTER TABLE outbox ADD COLUMN digest_day date;         -- email: the day a daily digest covers
ALTER TABLE outbox ADD COLUMN transport text;          -- email: 'smtp' or 'notify', as sent
ALTER TABLE outbox ADD COLUMN provider_id text;        -- GOV.UK Notify's notification id
ALTER TABLE outbox ADD COLUMN delivery_status text;    -- Notify's status read back: delivered, permanent-failure, …
ALTER TABLE outbox ADD COLUMN status_checked_at timestamptz;
ALTER TABLE outbox ADD CONSTRAINT outbox_channel_shape CHECK (
    (channel = 'webhook' AND subscription_id IS NOT NULL AND alert_id IS NOT NULL)
    OR (channel = 'email' AND subscription_id IS NULL AND recipient IS NOT NULL AND (alert_id IS NULL) <> (digest_day IS NULL)));
-- One email per alert (an alert has one recipient), and one digest per person per day.
CREATE UNIQUE INDEX outbox_email_alert ON outbox (alert_id) WHERE channel = 'email';
CREATE UNIQUE INDEX outbox_email_digest ON outbox (council_id, recipient, digest_day) WHERE digest_day IS NOT NULL;
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (channel, available_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
-- Notify's answers still to read back.
CREATE INDEX outbox_notify_status ON outbox (delivered_at) WHERE provider_id IS NOT NULL AND status_checked_at IS NULL;
