-- Migration 8: sessions for the web pages, kept server-side; two-factor secrets; a caseworker's work-tray index. Only the SHA-256 of a session id is
-- stored, never the id. A session is found before its council is known, so the service reaches this
-- table only through the SECURITY DEFINER functions below and holds no privilege on it.
CREATE TABLE web_sessions (
    session_hash text PRIMARY KEY,             -- hex SHA-256 of the cookie's session id
    user_id      uuid NOT NULL REFERENCES users,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CHECK (expires_at <= created_at + interval '12 hours')
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- A caseworker's unmet duties by due date: their work tray reads only their own rows, however many
-- cases the council holds.
CREATE INDEX deadlines_open_duty_by_caseworker ON deadlines (council_id, caseworker, due_on)
    INCLUDE (rule, case_id, key, excepted) WHERE status = 'open' AND kind = 'duty';

-- Two-factor sign-in: the shared secret of a user's authenticator app (RFC 6238), unreadable by the
-- service's role like the password hash.
ALTER TABLE users ADD COLUMN totp_secret text, ADD COLUMN totp_last_step bigint;

-- Saves a session for the user named in its data (who must be enabled). A new session lives at most
-- 12 hours; saving it again changes its data, never its expiry. Sessions long dead are cleared here.
CREATE FUNCTION ehcp_session_save(p_id text, p_data jsonb, p_expires_in interval)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    DECLARE saved integer;
    BEGIN
        DELETE FROM web_sessions WHERE expires_at < now() - interval '1 day';
        INSERT INTO web_sessions (session_hash, user_id, data, expires_at)
        SELECT encode(sha256(convert_to(p_id, 'UTF8')), 'hex'), u.user_id, p_data,
               now() + least(coalesce(p_expires_in, interval '12 hours'), interval '12 hours')
        FROM users u WHERE u.user_id = (p_data->>'userId')::uuid AND u.disabled_at IS NULL
        ON CONFLICT (session_hash) DO UPDATE SET data = EXCLUDED.data WHERE web_sessions.user_id = EXCLUDED.user_id;
        GET DIAGNOSTICS saved = ROW_COUNT;
        RETURN saved = 1;
    END
    $$;

-- A live session's data, with its user's current name, role, team and council, and its seconds left;
-- nothing when it has expired, been idle longer than p_idle, or its user is disabled. Marks it seen.
CREATE FUNCTION ehcp_session_load(p_id text, p_idle interval)
    RETURNS TABLE (data jsonb, seconds_left integer)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        UPDATE web_sessions s SET last_seen_at = now()
        FROM users u
        WHERE s.session_hash = encode(sha256(convert_to(p_id, 'UTF8')), 'hex') AND u.user_id = s.user_id
          AND u.disabled_at IS NULL AND s.expires_at > now() AND s.last_seen_at > now() - p_idle
        RETURNING s.data || jsonb_build_object('name', u.name, 'role', u.role, 'team', u.team, 'councilId', u.council_id),
                  ceil(extract(epoch FROM s.expires_at - now()))::integer
    $$;

CREATE FUNCTION ehcp_session_remove(p_id text)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$ DELETE FROM web_sessions WHERE session_hash = encode(sha256(convert_to(p_id, 'UTF8')), 'hex') $$;

-- The enabled users with this name and a password, with their password hashes (scrypt), for sign-in:
-- the hash must reach the service to be checked, one named account at a time, never a whole table.
CREATE FUNCTION ehcp_sign_in_candidates(p_name text)
    RETURNS TABLE (user_id uuid, council_id uuid, name text, role text, team text, password_hash text, totp_secret text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT user_id, council_id, name, role, team, password_hash, totp_secret FROM users
        WHERE name = p_name AND disabled_at IS NULL AND password_hash IS NOT NULL ORDER BY user_id LIMIT 10
    $$;

-- Enrols the user of a live session (one who has just given their password) for two-factor sign-in,
-- unless they already are: the service can set a secret only for the person in front of it.
CREATE FUNCTION ehcp_totp_enrol(p_session text, p_secret text, p_step bigint)
    RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        WITH enrolled AS (
            UPDATE users u SET totp_secret = p_secret, totp_last_step = p_step FROM web_sessions s
            WHERE s.session_hash = encode(sha256(convert_to(p_session, 'UTF8')), 'hex') AND s.user_id = u.user_id
              AND s.expires_at > now() AND u.disabled_at IS NULL AND u.totp_secret IS NULL
            RETURNING 1)
        SELECT count(*) = 1 FROM enrolled
    $$;

-- Spends a code's time step for the user of a live session: each step signs in once, and never one
-- older than the last used, so a code seen over someone's shoulder cannot be used again.
CREATE FUNCTION ehcp_totp_use(p_session text, p_step bigint)
    RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        WITH used AS (
            UPDATE users u SET totp_last_step = p_step FROM web_sessions s
            WHERE s.session_hash = encode(sha256(convert_to(p_session, 'UTF8')), 'hex') AND s.user_id = u.user_id
              AND s.expires_at > now() AND u.disabled_at IS NULL AND coalesce(u.totp_last_step, -1) < p_step
            RETURNING 1)
        SELECT count(*) = 1 FROM used
    $$;

REVOKE ALL ON FUNCTION ehcp_session_save(text, jsonb, interval), ehcp_session_load(text, interval), ehcp_session_remove(text),
    ehcp_sign_in_candidates(text), ehcp_totp_enrol(text, text, bigint), ehcp_totp_use(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehcp_session_save(text, jsonb, interval), ehcp_session_load(text, interval), ehcp_session_remove(text),
    ehcp_sign_in_candidates(text), ehcp_totp_enrol(text, text, bigint), ehcp_totp_use(text, bigint) TO ehcp_app;
