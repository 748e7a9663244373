-- EHCP case-workflow service: the database schema, current as of migration 15.
--
-- Applied by `ehcp migrate` (idempotent; it records each applied version in schema_migrations). A new
-- database gets this file whole; a database made by an earlier release gets the numbered migrations
-- in migrations/ that it lacks. A change to the schema goes in both places.
--
-- Design (docs: architecture.md):
--   * `events` is the source of truth: append-only, one row per case event, never updated or deleted
--     by the application role.
--   * `case_summary` and `deadlines` are projections written in the same transaction as the events
--     they derive from; `ehcp projections rebuild` can recreate them from `events`.
--   * Personal data lives only in `children`, so it can be exported or erased without touching events.
--   * Every council-owned row carries council_id and is guarded by row-level security, forced even on the
--     owner: the application runs as ehcp_app (not the owner) and sets `ehcp.council_id` for each
--     transaction.
--   * Three roles (docs/operations.md): the owner, which migrates and maintains across councils (so it
--     must be a superuser or BYPASSRLS); ehcp_app, the privileges the service has; and the login the
--     service connects as (the embedded database's is ehcp_service), a member of ehcp_app that owns
--     nothing, so that RESET ROLE leaves it no stronger.

-- The application role: no login of its own; the service's login role is a member of it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ehcp_app') THEN
        CREATE ROLE ehcp_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- another migration created it concurrently
END
$$;

-- The council set for the current transaction, or NULL (which matches no row).
CREATE FUNCTION ehcp_council() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('ehcp.council_id', true), '')::uuid $$;

-- Councils (tenants). Not secret: the list is readable so the scheduler can sweep each in turn.
CREATE TABLE councils (
    council_id  uuid PRIMARY KEY,
    code        text NOT NULL UNIQUE,          -- e.g. the ONS code 'E10000030' or a short name
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- People who use the service, and their bearer tokens (stored only as SHA-256 hashes).
CREATE TABLE users (
    user_id     uuid PRIMARY KEY,
    council_id  uuid NOT NULL REFERENCES councils,
    name        text NOT NULL,
    role        text NOT NULL CHECK (role IN ('caseworker', 'manager', 'admin', 'auditor')),
    team        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz,
    password_hash text,                        -- scrypt (PasswordHash), for the web pages; never readable by the service
    totp_secret text,                          -- two-factor sign-in (RFC 6238), set at enrolment; never readable by the service
    totp_last_step bigint,                     -- the last code's time step used: each signs in once
    -- Alerts by email (migration 10): set by an administrator with the owner's login, never by the service.
    email       text CHECK (email IS NULL OR (length(email) <= 254 AND email ~ '^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$')),
    email_on_breach   boolean NOT NULL DEFAULT true,
    email_on_reminder boolean NOT NULL DEFAULT false,
    email_digest      boolean NOT NULL DEFAULT true,
    email_failed_at   timestamptz,                 -- a permanent failure to deliver, shown until the address changes
    email_failure     text,
    UNIQUE (council_id, name)
);

CREATE TABLE api_tokens (
    token_hash  text PRIMARY KEY,              -- hex SHA-256 of the token; the token itself is never stored
    user_id     uuid NOT NULL REFERENCES users,
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

-- Who holds a bearer token: the user, their council and role, if the token is live (not revoked, not
-- expired, user not disabled). SECURITY DEFINER so that the application role can authenticate a request
-- before it knows the council, without being able to read any other user's row.
CREATE FUNCTION ehcp_authenticate(p_token text)
    RETURNS TABLE (user_id uuid, council_id uuid, name text, role text, team text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
        SELECT u.user_id, u.council_id, u.name, u.role, u.team
        FROM api_tokens t JOIN users u USING (user_id)
        WHERE t.token_hash = encode(sha256(convert_to(p_token, 'UTF8')), 'hex')
          AND t.revoked_at IS NULL AND t.expires_at > now() AND u.disabled_at IS NULL
    $$;
REVOKE ALL ON FUNCTION ehcp_authenticate(text) FROM PUBLIC;

-- Personal data, kept apart from the anonymous event history (subject access and erasure).
CREATE TABLE children (
    child_id    uuid PRIMARY KEY,
    council_id  uuid NOT NULL REFERENCES councils,
    forename    text,
    surname     text,
    born_on     date,
    sex         text,
    postcode    text,
    upn         text,                          -- unique pupil number
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz                    -- set when personal details were erased at end of retention
);

-- Search (migration 12): names that contain the text, through a trigram index (pg_trgm ships with
-- PostgreSQL and is trusted, so the database's owner may create it). concat_ws itself is only STABLE,
-- so the index and the queries name the child through this function.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE FUNCTION ehcp_child_name(p_forename text, p_surname text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT concat_ws(' ', p_forename, p_surname) $$;
CREATE INDEX children_name_search ON children USING gin (ehcp_child_name(forename, surname) gin_trgm_ops);

-- The head of each case's stream: its council and current version (the optimistic-concurrency check).
CREATE TABLE case_streams (
    case_id     uuid PRIMARY KEY,
    council_id  uuid NOT NULL REFERENCES councils,
    version     integer NOT NULL CHECK (version > 0)
);

-- The event log. global_position orders the whole log; transaction_id lets a reader of the global
-- log wait for transactions still in flight instead of skipping rows that commit late.
-- (council_id has no foreign key here or in the projections: the stream head already ties the case to its
-- council, and a key on councils would make every append lock the one council row all writers share.)
CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    council_id      uuid NOT NULL,
    case_id         uuid NOT NULL REFERENCES case_streams,
    version         integer NOT NULL CHECK (version > 0),
    type            text NOT NULL,
    schema_version  smallint NOT NULL DEFAULT 1,
    data            jsonb NOT NULL,
    occurred_on     date NOT NULL,             -- when it happened in the world (deadlines use this)
    recorded_at     timestamptz NOT NULL DEFAULT now(), -- when the service learned of it
    actor           text NOT NULL,
    correlation_id  uuid,
    causation_id    uuid,
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_case_version UNIQUE (case_id, version)
);
CREATE INDEX events_global_reader ON events (transaction_id, global_position);

-- Idempotency keys: a replay with the same key and body returns the original result.
CREATE TABLE idempotency_keys (
    council_id      uuid NOT NULL,
    key             text NOT NULL,
    request_hash    text NOT NULL,
    case_id         uuid NOT NULL,
    first_version   integer NOT NULL,
    last_version    integer NOT NULL,
    first_position  bigint NOT NULL,
    last_position   bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, key)
);

-- Responses to the POSTs that record no case event (webhook subscriptions, erasure, marking an alert read,
-- redriving a delivery), kept by Idempotency-Key and written in the same transaction as the change, so
-- a replay returns the first response and the change happens once.
CREATE TABLE idempotent_responses (
    council_id      uuid NOT NULL,
    key             text NOT NULL,
    request_hash    text NOT NULL,                 -- SHA-256 of method, path and body
    status          smallint NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, key)
);

-- Projection: one row per case, for lists, searches and reports.
CREATE TABLE case_summary (
    case_id         uuid PRIMARY KEY REFERENCES case_streams,
    council_id      uuid NOT NULL,
    reference       text NOT NULL,             -- the human case reference, e.g. 'EHC-2025-00042'
    child_id        uuid REFERENCES children,
    stage           text NOT NULL,
    opened_on       date NOT NULL,
    opened_by       text NOT NULL,
    request_source  text,
    decided_on      date,
    assessed        boolean,
    draft_on        date,
    plan_made_on    date,
    no_plan_on      date,
    withdrawn_on    date,
    ceased_on       date,
    transferred_out_on date,                   -- the plan moved to another council (SEN2 and the DfE's census population)
    ceased_reason   smallint,
    caseworker      text,
    team            text,
    mediation       boolean NOT NULL DEFAULT false,
    appealed        boolean NOT NULL DEFAULT false,
    final_20w_excepted boolean NOT NULL DEFAULT false,
    version         integer NOT NULL,
    next_due_on     date,                      -- earliest unmet duty deadline (it may be past)
    -- For the timeliness measures and SEN2 (ReportingFacts in the domain):
    first_plan_on   date,                      -- the first final plan for the request (K-20W)
    request_mediation    boolean NOT NULL DEFAULT false,
    request_tribunal     boolean NOT NULL DEFAULT false,
    assessment_mediation boolean NOT NULL DEFAULT false,  -- K-20W's DfE scope leaves these cases out
    assessment_tribunal  boolean NOT NULL DEFAULT false,
    other_mediation      boolean NOT NULL DEFAULT false,
    other_tribunal       boolean NOT NULL DEFAULT false,
    last_review_on  date,
    first_mediation_on date,
    first_appeal_on date,
    dfe_years       jsonb,                     -- the case's part in each year's DfE measures (DfEYears in EHCPStore; dfe_counts below)
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (council_id, reference)
);
CREATE INDEX case_summary_caseworker ON case_summary (council_id, caseworker);
CREATE INDEX case_summary_team ON case_summary (council_id, team);
CREATE INDEX case_summary_first_plan ON case_summary (council_id, first_plan_on);
-- Search by reference prefix, and a child's cases (migration 12).
CREATE INDEX case_summary_reference_search ON case_summary (upper(reference) text_pattern_ops);
CREATE INDEX case_summary_child ON case_summary (child_id);

-- The cases of the council set for the transaction whose child's name contains the pattern, and those
-- whose reference starts with it (LIKE escapes as the caller wrote them), at most p_limit of each, with
-- how many of each were found. As the owner, because row-level security keeps the trigram and pattern
-- indexes from being used (their operators are not leakproof, so PostgreSQL will not test them before
-- the council's policy); the council is therefore tested here. Planned for the pattern each time
-- (EXECUTE): the best plan for a name nobody has is not the best for a common one.
CREATE FUNCTION ehcp_search_cases(p_pattern text, p_limit integer)
    RETURNS TABLE (named integer, referenced integer, case_ids uuid[])
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    BEGIN
        RETURN QUERY EXECUTE $q$
            WITH named AS MATERIALIZED (
                SELECT s.case_id FROM children c JOIN case_summary s ON s.child_id = c.child_id
                WHERE c.council_id = ehcp_council() AND s.council_id = ehcp_council()
                  AND ehcp_child_name(c.forename, c.surname) ILIKE '%' || $1 || '%'
                LIMIT $2
            ), referenced AS MATERIALIZED (
                SELECT s.case_id FROM case_summary s
                WHERE s.council_id = ehcp_council() AND upper(s.reference) LIKE upper($1) || '%'
                LIMIT $2
            )
            SELECT (SELECT count(*) FROM named)::int, (SELECT count(*) FROM referenced)::int,
                   ARRAY(SELECT case_id FROM named UNION SELECT case_id FROM referenced)
        $q$ USING p_pattern, p_limit;
    END
    $$;
REVOKE ALL ON FUNCTION ehcp_search_cases(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehcp_search_cases(text, integer) TO ehcp_app;


-- Projection: every deadline of every case, as computed when the case last changed.
-- `status` is timeless: an unmet duty stays 'open' after its date, because a stored row cannot age.
-- Readers derive overdue ('breached'), excepted and expired from due_on and their own today
-- (ehcp_deadline_status below). A duty the case moved past while overdue is 'missed' from that day on
-- (docs/rules.md, "Statuses"). `next_alert_on` is the next day the scheduler has work on the row
-- (an unsent reminder, or the breach the day after due_on); the sweep reads only rows whose
-- next_alert_on has come (partial index below), so its cost follows the due rows, not the total.
CREATE TABLE deadlines (
    case_id         uuid NOT NULL REFERENCES case_streams,
    council_id      uuid NOT NULL,
    rule            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('duty', 'window', 'informational')),
    key             text NOT NULL DEFAULT '',
    start_version   integer NOT NULL,
    started_on      date NOT NULL,
    due_on          date NOT NULL,
    status          text NOT NULL CHECK (status IN ('open', 'met', 'metLate', 'breached', 'excepted', 'cancelled', 'missed')),
    met_on          date,
    moved_past_on   date,                      -- 'missed' (and unmet 'excepted') rows: the day the case moved past the overdue clock
    excepted        boolean NOT NULL DEFAULT false,
    next_alert_on   date,
    advice_type     text,                      -- R-ADVICE-6W rows: K-ADVICE-6W groups by type and provider
    provider        text,
    review_outcome  text,                      -- R-REVIEW-12M and R-REVIEW-DECIDE-4W rows met by a review decision: maintain, amend or cease
    -- On unmet duties (status 'open' or 'missed', kind 'duty') the case's caseworker, so that the breach
    -- report and work tray group and filter from the covering indexes below without a join; NULL on
    -- every other row (readers of those join case_summary), so a reassignment rewrites only those duties.
    caseworker      text,
    -- The case's team, on every row: the clock counts below are kept per team (migration 11).
    team            text,
    -- R-FINAL-20W: 'dfe' when the clock is in K-20W as the DfE counts it, 'all' when only the wider
    -- population keeps it (a dispute at the request or the assessment), NULL when not in K-20W at all.
    k20w            text CHECK (k20w IN ('dfe', 'all')),
    PRIMARY KEY (case_id, rule, key, start_version)
);
CREATE INDEX deadlines_next_alert ON deadlines (next_alert_on) WHERE next_alert_on IS NOT NULL;
-- Unmet duties by due date, covering what the breach report and work tray filter and group on, so
-- their totals are index-only scans.
CREATE INDEX deadlines_open_duty_by_due ON deadlines (council_id, due_on)
    INCLUDE (started_on, excepted, rule, team, caseworker, case_id, key) WHERE status = 'open' AND kind = 'duty';
-- A caseworker's unmet duties by due date: their work tray reads only their own rows, however many
-- cases the council holds.
CREATE INDEX deadlines_open_duty_by_caseworker ON deadlines (council_id, caseworker, due_on)
    INCLUDE (rule, case_id, key, excepted) WHERE status = 'open' AND kind = 'duty';

-- A stored deadline's status as of a day (DeadlineStatus.asOf in the domain): the due day itself is open.
CREATE FUNCTION ehcp_deadline_status(p_status text, p_kind text, p_due date, p_excepted boolean, p_today date)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE
            WHEN p_status <> 'open' THEN p_status
            WHEN p_kind = 'window' THEN CASE WHEN p_today >= p_due THEN 'met' ELSE 'open' END
            WHEN p_today <= p_due THEN 'open'
            WHEN p_kind = 'informational' THEN 'expired'
            WHEN p_excepted THEN 'excepted'
            ELSE 'breached'
        END
    $$;
-- A rule's clocks by due date and by the day they were met, covering what the timeliness measures and the
-- DfE's measures read, so a year of them is an index-only scan however many cases the council holds.
CREATE INDEX deadlines_council_rule_due ON deadlines (council_id, rule, due_on)
    INCLUDE (case_id, met_on, status, review_outcome);
CREATE INDEX deadlines_council_rule_met ON deadlines (council_id, rule, met_on)
    INCLUDE (case_id, due_on, excepted) WHERE met_on IS NOT NULL;
-- Missed duties by the day the case moved past them, with what the breach report's missed section
-- filters and counts on (caseworker and team are kept on missed duties as on open ones); also its
-- open list as of a day before that.
CREATE INDEX deadlines_moved_past ON deadlines (council_id, moved_past_on)
    INCLUDE (status, rule, team, caseworker, case_id, key, due_on) WHERE moved_past_on IS NOT NULL;

-- The clock counts: the timeliness measures' figures per council, rule, day, team and exception,
-- kept in the same transaction as the deadline rows they count, so that a year of a measure sums a few
-- thousand counts instead of reading every clock of the year (issue 24: K-20W for a year at 1,000,000
-- cases read 150,000 clocks in 945 ms). A statement trigger on `deadlines` appends each statement's
-- net change to `clock_count_changes`, which no two writers ever update in common, so writers never wait
-- for each other here; the scheduler's sweep folds the changes into `clock_counts` (ReportCounts.fold).
-- Reports sum both. `TimelinessReport` reads them for a measure by month, by team or in total, and
-- still reads the clocks themselves for the other groupings and for the cases behind a figure.
--
-- What is counted (statutory-timescales.md §5; `Measure` in EHCPReports, whose rules a test ties to
-- this function): reviews and phase transfers on the day they fell due unless cancelled, the other
-- measures' clocks on the day they were met, and R-FINAL-20W only when `k20w` puts it in K-20W.
CREATE FUNCTION ehcp_clock_changes(p_rows deadlines[], p_sign integer)
    RETURNS TABLE (council_id uuid, rule text, counted_on date, team text, excepted boolean, k20w text,
                   clocks integer, within integer, request_days integer, over_52 integer)
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT d.council_id, d.rule,
               CASE WHEN d.rule IN ('R-REVIEW-12M', 'R-PHASE-15FEB', 'R-PHASE-31MAR') THEN d.due_on ELSE d.met_on END,
               d.team, d.excepted, d.k20w, p_sign,
               CASE WHEN d.met_on <= d.due_on THEN p_sign ELSE 0 END,
               CASE WHEN d.k20w IS NOT NULL THEN p_sign * (d.met_on - d.started_on) ELSE 0 END,
               CASE WHEN d.k20w IS NOT NULL AND d.met_on - d.started_on > 364 THEN p_sign ELSE 0 END
        FROM unnest(p_rows) d
        WHERE CASE
            WHEN d.rule IN ('R-REVIEW-12M', 'R-PHASE-15FEB', 'R-PHASE-31MAR') THEN d.status <> 'cancelled'
            WHEN d.rule = 'R-FINAL-20W' THEN d.k20w IS NOT NULL AND d.met_on IS NOT NULL
            WHEN d.rule IN ('R-DECIDE-6W', 'R-ADVICE-6W', 'R-NOPLAN-16W', 'R-REVIEW-DECIDE-4W', 'R-AMEND-FINAL-8W') THEN d.met_on IS NOT NULL
            ELSE false
        END
    $$;

-- Folded counts: one row per council, rule, day, team, exception and K-20W scope.
CREATE TABLE clock_counts (
    council_id   uuid NOT NULL,
    rule         text NOT NULL,
    counted_on   date NOT NULL,                -- the day met, or due for reviews and phase transfers
    team         text,                         -- the case's team now (every deadline row carries it)
    excepted     boolean NOT NULL,
    k20w         text,                         -- R-FINAL-20W: 'dfe' or 'all' (deadlines.k20w)
    clocks       integer NOT NULL,             -- the denominator
    within       integer NOT NULL,             -- met on or before the due day: the numerator
    request_days integer NOT NULL,             -- K-20W: days from request to plan, summed (the mean in weeks)
    over_52      integer NOT NULL              -- K-20W: plans issued more than 52 weeks after the request
);
CREATE UNIQUE INDEX clock_counts_key ON clock_counts (council_id, rule, counted_on, team, excepted, k20w) NULLS NOT DISTINCT;

-- Changes not yet folded: each statement that writes deadline rows appends its net change here.
CREATE TABLE clock_count_changes (LIKE clock_counts);
CREATE INDEX clock_count_changes_period ON clock_count_changes (council_id, rule, counted_on);

-- The duty counts (migration 14): the breach report's totals, kept by the same trigger. Counted: unmet
-- duties (status 'open', kind 'duty') by due and start day, which are the report's open duties as of any
-- day on or after their start; and clocks the case moved past ('missed') by the day it did, which are
-- its missed section. The duties met or moved past only after the as-of day are few, and `BreachReport`
-- reads them from the rows. At 1,000,000 cases its totals group about 24,000 counts instead of 239,713
-- unmet duties.
CREATE FUNCTION ehcp_duty_changes(p_rows deadlines[], p_sign integer)
    RETURNS TABLE (council_id uuid, status text, due_on date, moved_past_on date, rule text, started_on date,
                   team text, caseworker text, excepted boolean, duties integer)
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT d.council_id, d.status,
               CASE WHEN d.status = 'open' THEN d.due_on END,
               CASE WHEN d.status = 'missed' THEN d.moved_past_on END,
               d.rule,
               CASE WHEN d.status = 'open' THEN d.started_on END,
               d.team, d.caseworker, d.status = 'open' AND d.excepted, p_sign
        FROM unnest(p_rows) d
        WHERE (d.status = 'open' AND d.kind = 'duty') OR d.status = 'missed'
    $$;

CREATE TABLE duty_counts (
    council_id    uuid NOT NULL,
    status        text NOT NULL,               -- 'open' or 'missed'
    due_on        date,                        -- open duties
    moved_past_on date,                        -- missed clocks
    rule          text NOT NULL,
    started_on    date,                        -- open duties
    team          text,
    caseworker    text,
    excepted      boolean NOT NULL,            -- open duties with an exception accepted
    duties        integer NOT NULL
);
CREATE UNIQUE INDEX duty_counts_key ON duty_counts (council_id, status, due_on, moved_past_on, rule, started_on, team, caseworker, excepted)
    NULLS NOT DISTINCT;
-- Counts that fell to zero (every duty of the day met), which the fold deletes.
CREATE INDEX duty_counts_empty ON duty_counts (council_id) WHERE duties = 0;
CREATE TABLE duty_count_changes (LIKE duty_counts);
CREATE INDEX duty_count_changes_day ON duty_count_changes (council_id, status, due_on, moved_past_on);

-- The deadline rows' trigger keeps both counts.
CREATE FUNCTION ehcp_count_clock_changes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        removed deadlines[] := '{}';
        added deadlines[] := '{}';
    BEGIN
        IF TG_OP <> 'INSERT' THEN removed := ARRAY(SELECT o FROM old_rows o); END IF;
        IF TG_OP <> 'DELETE' THEN added := ARRAY(SELECT n FROM new_rows n); END IF;
        INSERT INTO clock_count_changes (council_id, rule, counted_on, team, excepted, k20w, clocks, within, request_days, over_52)
        SELECT c.council_id, c.rule, c.counted_on, c.team, c.excepted, c.k20w,
               sum(c.clocks), sum(c.within), sum(c.request_days), sum(c.over_52)
        FROM (SELECT * FROM ehcp_clock_changes(removed, -1) UNION ALL SELECT * FROM ehcp_clock_changes(added, 1)) c
        GROUP BY c.council_id, c.rule, c.counted_on, c.team, c.excepted, c.k20w
        HAVING sum(c.clocks) <> 0 OR sum(c.within) <> 0 OR sum(c.request_days) <> 0 OR sum(c.over_52) <> 0;
        INSERT INTO duty_count_changes (council_id, status, due_on, moved_past_on, rule, started_on, team, caseworker, excepted, duties)
        SELECT c.council_id, c.status, c.due_on, c.moved_past_on, c.rule, c.started_on, c.team, c.caseworker, c.excepted, sum(c.duties)
        FROM (SELECT * FROM ehcp_duty_changes(removed, -1) UNION ALL SELECT * FROM ehcp_duty_changes(added, 1)) c
        GROUP BY c.council_id, c.status, c.due_on, c.moved_past_on, c.rule, c.started_on, c.team, c.caseworker, c.excepted
        HAVING sum(c.duties) <> 0;
        RETURN NULL;
    END
    $$;
CREATE TRIGGER deadlines_counted_insert AFTER INSERT ON deadlines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehcp_count_clock_changes();
CREATE TRIGGER deadlines_counted_update AFTER UPDATE ON deadlines
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehcp_count_clock_changes();
CREATE TRIGGER deadlines_counted_delete AFTER DELETE ON deadlines
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ehcp_count_clock_changes();
-- A TRUNCATE (the owner's, by hand) removes rows without the row changes the triggers count: the
-- counts go with them.
CREATE FUNCTION ehcp_clock_counts_truncated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN DELETE FROM clock_counts; DELETE FROM clock_count_changes; DELETE FROM duty_counts; DELETE FROM duty_count_changes; RETURN NULL; END $$;
CREATE TRIGGER deadlines_counted_truncate AFTER TRUNCATE ON deadlines FOR EACH STATEMENT EXECUTE FUNCTION ehcp_clock_counts_truncated();

ALTER TABLE clock_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE clock_counts FORCE ROW LEVEL SECURITY;
ALTER TABLE clock_count_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE clock_count_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY council_clock_counts ON clock_counts
    USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_clock_count_changes ON clock_count_changes
    USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
GRANT SELECT, INSERT, UPDATE ON clock_counts TO ehcp_app;
GRANT SELECT, INSERT, DELETE ON clock_count_changes TO ehcp_app;
ALTER TABLE duty_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE duty_counts FORCE ROW LEVEL SECURITY;
ALTER TABLE duty_count_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE duty_count_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY council_duty_counts ON duty_counts
    USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_duty_count_changes ON duty_count_changes
    USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
GRANT SELECT, INSERT, UPDATE, DELETE ON duty_counts TO ehcp_app;
GRANT SELECT, INSERT, DELETE ON duty_count_changes TO ehcp_app;

-- The caseload counts: the caseload report's figures (requests, decisions, plans, cessations, disputes,
-- and the plans in place on a census day) per council, kind and day, kept in the same transaction as the
-- case summaries they count, as the clock counts are kept beside the deadline rows (migration 11). At
-- 1,000,000 cases the report read every summary, and the dashboard waited for it.
--
-- Plans in place on a day = plans made by then less plans that ended by then ('planEnded' is counted on
-- the later of the plan and its cessation), for cases not transferred out; `CaseloadReport` in
-- EHCPReports reads them, and a test holds them equal to the summaries.
CREATE FUNCTION ehcp_case_changes(p_rows case_summary[], p_sign integer)
    RETURNS TABLE (council_id uuid, kind text, counted_on date, cases integer)
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT s.council_id, k.kind, k.day, p_sign
        FROM unnest(p_rows) s
        CROSS JOIN LATERAL (VALUES
            ('requested', CASE WHEN s.opened_by = 'RequestReceived' THEN s.opened_on END),
            ('refused', CASE WHEN s.assessed = false THEN s.decided_on END),
            ('assessed', CASE WHEN s.assessed THEN s.decided_on END),
            ('noPlan', s.no_plan_on),
            ('firstPlan', s.first_plan_on),
            ('planMade', CASE WHEN s.stage <> 'transferredOut' THEN s.plan_made_on END),
            ('planEnded', CASE WHEN s.stage <> 'transferredOut' AND s.plan_made_on IS NOT NULL AND s.ceased_on IS NOT NULL
                               THEN greatest(s.plan_made_on, s.ceased_on) END),
            ('ceased', s.ceased_on),
            ('ceased:' || coalesce(s.ceased_reason::text, 'unknown'), s.ceased_on),
            ('mediation', s.first_mediation_on),
            ('appeal', s.first_appeal_on)
        ) AS k(kind, day)
        WHERE k.day IS NOT NULL
    $$;

CREATE TABLE case_counts (
    council_id  uuid NOT NULL,
    kind        text NOT NULL,
    counted_on  date NOT NULL,
    cases       integer NOT NULL
);
CREATE UNIQUE INDEX case_counts_key ON case_counts (council_id, kind, counted_on);
CREATE TABLE case_count_changes (LIKE case_counts);
CREATE INDEX case_count_changes_period ON case_count_changes (council_id, kind, counted_on);

-- The DfE counts (migration 15): the DfE's measures for a year (docs/reports.md, "The DfE's measures")
-- per council, year and birth cohort, kept by the same trigger as the caseload counts, and by one on
-- `children` for a date of birth corrected or erased. Each summary carries its case's part in
-- each year's measures (`dfe_years`, computed with the case's clocks by `DfEYears` in EHCPStore), so
-- that the counts follow from the summary and the child's date of birth alone. Plans in place at a
-- census are plans made by then less plans ended by then, by the year of the first census on or after
-- the day; a year's reviews count only for plans in place at its census. The age on 31 August of a
-- year is the year less the child's cohort (born September to August).
-- The January census after a year (SEN2): the third Thursday of January (SEN2Export.censusDate).
CREATE FUNCTION ehcp_census(p_year integer) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT make_date(p_year + 1, 1, 1) + ((4 - extract(isodow FROM make_date(p_year + 1, 1, 1))::int + 7) % 7 + 14) $$;
-- The year whose census is the first on or after a day.
CREATE FUNCTION ehcp_census_year(p_day date) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE WHEN p_day <= ehcp_census(extract(year FROM p_day)::int - 1) THEN extract(year FROM p_day)::int - 1
                    ELSE extract(year FROM p_day)::int END
    $$;
-- A child's cohort: the year of the first 31 August on or after their birth, so that their age on
-- 31 August of a year is that year less the cohort.
CREATE FUNCTION ehcp_cohort(p_born date) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT extract(year FROM p_born)::int + CASE WHEN extract(month FROM p_born) > 8 THEN 1 ELSE 0 END $$;

-- The counts of summaries whose children are in the given cohorts (one per summary).
CREATE FUNCTION ehcp_dfe_changes_in(p_rows case_summary[], p_cohorts integer[], p_sign integer)
    RETURNS TABLE (council_id uuid, year integer, cohort integer, placed integer, unplaced integer, expected integer, completed integer,
                   amended integer, maintained integer, ceased integer, within_4w integer, meetings integer,
                   decided_within integer, decided_later integer, school_due integer, school_final integer,
                   post16_due integer, post16_final integer)
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT s.council_id, x.*
        FROM unnest(p_rows) WITH ORDINALITY AS s
        CROSS JOIN LATERAL (SELECT least(s.ceased_on, s.transferred_out_on) AS ended_on) e
        CROSS JOIN LATERAL (
            SELECT ehcp_census_year(s.plan_made_on), p_cohorts[s.ordinality], p_sign, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            WHERE s.plan_made_on IS NOT NULL
            UNION ALL
            SELECT ehcp_census_year(greatest(s.plan_made_on, e.ended_on)), p_cohorts[s.ordinality], 0, p_sign, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            WHERE s.plan_made_on IS NOT NULL AND e.ended_on IS NOT NULL
            UNION ALL
            SELECT y.y, p_cohorts[s.ordinality], 0, 0,
                   p_sign * p.placed * coalesce(y.e, 0), p_sign * p.placed * coalesce(y.c, 0),
                   p_sign * p.placed * (y.o IS NOT DISTINCT FROM 'amend')::int, p_sign * p.placed * (y.o IS NOT DISTINCT FROM 'maintain')::int,
                   p_sign * p.placed * (y.o IS NOT DISTINCT FROM 'cease')::int,
                   p_sign * p.placed * coalesce(y.w, 0), p_sign * p.placed * coalesce(y.m, 0),
                   p_sign * r.requested * coalesce(y.dw, 0), p_sign * r.requested * coalesce(y.dl, 0),
                   p_sign * coalesce(y.sd, 0), p_sign * coalesce(y.sf, 0), p_sign * coalesce(y.pd, 0), p_sign * coalesce(y.pf, 0)
            FROM jsonb_to_recordset(coalesce(s.dfe_years, '[]')) AS y(y integer, e integer, c integer, o text, w integer, m integer,
                                                                      dw integer, dl integer, sd integer, sf integer, pd integer, pf integer)
            CROSS JOIN LATERAL (
                SELECT coalesce(s.plan_made_on <= ehcp_census(y.y) AND coalesce(e.ended_on > ehcp_census(y.y), true), false)::int AS placed
            ) p
            -- Reg 5(1): requests, not councils becoming responsible.
            CROSS JOIN LATERAL (SELECT (s.opened_by = 'RequestReceived')::int AS requested) r
        ) x(year, cohort, placed, unplaced, expected, completed, amended, maintained, ceased, within_4w, meetings,
            decided_within, decided_later, school_due, school_final, post16_due, post16_final)
    $$;
-- The counts of summaries, with their children's cohorts as they stand.
CREATE FUNCTION ehcp_dfe_changes(p_rows case_summary[], p_sign integer)
    RETURNS TABLE (council_id uuid, year integer, cohort integer, placed integer, unplaced integer, expected integer, completed integer,
                   amended integer, maintained integer, ceased integer, within_4w integer, meetings integer,
                   decided_within integer, decided_later integer, school_due integer, school_final integer,
                   post16_due integer, post16_final integer)
    LANGUAGE sql STABLE
    AS $$
        -- One lookup by key per summary: a join could read every child.
        SELECT * FROM ehcp_dfe_changes_in(p_rows, ARRAY(
            SELECT (SELECT ehcp_cohort(c.born_on) FROM children c WHERE c.child_id = s.child_id)
            FROM unnest(p_rows) WITH ORDINALITY AS s ORDER BY s.ordinality), p_sign)
    $$;

CREATE TABLE dfe_counts (
    council_id     uuid NOT NULL,
    year           integer NOT NULL,           -- plans: the year of the first census on or after the day; the rest: the year
    cohort         integer,                    -- the child's (NULL: no date of birth)
    placed         integer NOT NULL,           -- plans made
    unplaced       integer NOT NULL,           -- plans ended (ceased, transferred out)
    expected       integer NOT NULL,           -- review_expected: plans in place at the census with a review due in the year
    completed      integer NOT NULL,           -- review_completed
    amended        integer NOT NULL,           -- outcome_amended
    maintained     integer NOT NULL,           -- outcome_maintained
    ceased         integer NOT NULL,           -- outcome_ceased
    within_4w      integer NOT NULL,           -- decision_4_weeks
    meetings       integer NOT NULL,           -- meetings_held
    decided_within integer NOT NULL,           -- request_outcome_six_weeks
    decided_later  integer NOT NULL,           -- request_outcome_over_6_weeks
    school_due     integer NOT NULL,           -- phase transfers due by 15 February, and finalised by then
    school_final   integer NOT NULL,
    post16_due     integer NOT NULL,           -- by 31 March
    post16_final   integer NOT NULL
);
CREATE UNIQUE INDEX dfe_counts_key ON dfe_counts (council_id, year, cohort) NULLS NOT DISTINCT;
CREATE TABLE dfe_count_changes (LIKE dfe_counts);
CREATE INDEX dfe_count_changes_year ON dfe_count_changes (council_id, year);

-- The summaries' trigger keeps both counts.
CREATE FUNCTION ehcp_count_case_changes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        removed case_summary[] := '{}';
        added case_summary[] := '{}';
        dfe_removed case_summary[];
        dfe_added case_summary[];
    BEGIN
        IF TG_OP <> 'INSERT' THEN removed := ARRAY(SELECT o FROM old_rows o); END IF;
        IF TG_OP <> 'DELETE' THEN added := ARRAY(SELECT n FROM new_rows n); END IF;
        dfe_removed := removed;
        dfe_added := added;
        IF TG_OP = 'UPDATE' THEN
            -- Most events change none of what the DfE counts read: only the summaries that do are counted again.
            SELECT coalesce(array_agg(o), '{}'), coalesce(array_agg(n), '{}') INTO dfe_removed, dfe_added
            FROM old_rows o JOIN new_rows n ON n.case_id = o.case_id
            WHERE (o.plan_made_on, o.ceased_on, o.transferred_out_on, o.child_id, o.opened_by, o.dfe_years)
                  IS DISTINCT FROM (n.plan_made_on, n.ceased_on, n.transferred_out_on, n.child_id, n.opened_by, n.dfe_years);
        END IF;
        INSERT INTO case_count_changes (council_id, kind, counted_on, cases)
        SELECT c.council_id, c.kind, c.counted_on, sum(c.cases)
        FROM (SELECT * FROM ehcp_case_changes(removed, -1) UNION ALL SELECT * FROM ehcp_case_changes(added, 1)) c
        GROUP BY c.council_id, c.kind, c.counted_on
        HAVING sum(c.cases) <> 0;
        IF cardinality(dfe_removed) + cardinality(dfe_added) > 0 THEN
            INSERT INTO dfe_count_changes (council_id, year, cohort, placed, unplaced, expected, completed, amended, maintained,
                ceased, within_4w, meetings, decided_within, decided_later, school_due, school_final, post16_due, post16_final)
            SELECT c.council_id, c.year, c.cohort, sum(c.placed), sum(c.unplaced), sum(c.expected), sum(c.completed),
                sum(c.amended), sum(c.maintained), sum(c.ceased), sum(c.within_4w), sum(c.meetings), sum(c.decided_within),
                sum(c.decided_later), sum(c.school_due), sum(c.school_final), sum(c.post16_due), sum(c.post16_final)
            FROM (SELECT * FROM ehcp_dfe_changes(dfe_removed, -1) UNION ALL SELECT * FROM ehcp_dfe_changes(dfe_added, 1)) c
            GROUP BY c.council_id, c.year, c.cohort
            HAVING sum(c.placed) <> 0 OR sum(c.unplaced) <> 0 OR sum(c.expected) <> 0 OR sum(c.completed) <> 0 OR sum(c.amended)
                <> 0 OR sum(c.maintained) <> 0 OR sum(c.ceased) <> 0 OR sum(c.within_4w) <> 0 OR sum(c.meetings) <> 0 OR
                sum(c.decided_within) <> 0 OR sum(c.decided_later) <> 0
                OR sum(c.school_due) <> 0 OR sum(c.school_final) <> 0 OR sum(c.post16_due) <> 0 OR sum(c.post16_final) <> 0;
        END IF;
        RETURN NULL;
    END
    $$;
CREATE TRIGGER case_summary_counted_insert AFTER INSERT ON case_summary
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehcp_count_case_changes();
CREATE TRIGGER case_summary_counted_update AFTER UPDATE ON case_summary
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehcp_count_case_changes();
CREATE TRIGGER case_summary_counted_delete AFTER DELETE ON case_summary
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ehcp_count_case_changes();
-- A TRUNCATE takes the counts with it, as for the clock counts.
CREATE FUNCTION ehcp_case_counts_truncated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN DELETE FROM case_counts; DELETE FROM case_count_changes; DELETE FROM dfe_counts; DELETE FROM dfe_count_changes;
        RETURN NULL; END $$;
CREATE TRIGGER case_summary_counted_truncate AFTER TRUNCATE ON case_summary FOR EACH STATEMENT EXECUTE FUNCTION ehcp_case_counts_truncated();

ALTER TABLE case_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_counts FORCE ROW LEVEL SECURITY;
ALTER TABLE case_count_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_count_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY council_case_counts ON case_counts
    USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_case_count_changes ON case_count_changes
    USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
GRANT SELECT, INSERT, UPDATE ON case_counts TO ehcp_app;
GRANT SELECT, INSERT, DELETE ON case_count_changes TO ehcp_app;
-- A child's date of birth corrected or erased moves their cases' counts to the new cohort. (A case's
-- child is recorded before the case names it, and cannot be deleted while named, so only an update
-- moves counts.)
CREATE FUNCTION ehcp_count_child_changes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        cases case_summary[];
        old_cohorts integer[];
        new_cohorts integer[];
    BEGIN
        -- Wait for any writer of these cases, whose trigger counted them in the cohort it saw, so that the
        -- summaries moved below are the ones counted; a writer that comes later waits for this one, and
        -- counts in the new cohort.
        PERFORM 1 FROM old_rows o JOIN new_rows n ON n.child_id = o.child_id JOIN case_summary s ON s.child_id = n.child_id
        WHERE ehcp_cohort(o.born_on) IS DISTINCT FROM ehcp_cohort(n.born_on)
        FOR UPDATE OF s;
        SELECT array_agg(s ORDER BY s.case_id), array_agg(ehcp_cohort(o.born_on) ORDER BY s.case_id),
               array_agg(ehcp_cohort(n.born_on) ORDER BY s.case_id)
        INTO cases, old_cohorts, new_cohorts
        FROM old_rows o JOIN new_rows n ON n.child_id = o.child_id JOIN case_summary s ON s.child_id = n.child_id
        WHERE ehcp_cohort(o.born_on) IS DISTINCT FROM ehcp_cohort(n.born_on);
        IF cases IS NULL THEN RETURN NULL; END IF;
        INSERT INTO dfe_count_changes (council_id, year, cohort, placed, unplaced, expected, completed, amended, maintained,
            ceased, within_4w, meetings, decided_within, decided_later, school_due, school_final, post16_due, post16_final)
        SELECT c.council_id, c.year, c.cohort, sum(c.placed), sum(c.unplaced), sum(c.expected), sum(c.completed), sum(c.amended),
            sum(c.maintained), sum(c.ceased), sum(c.within_4w), sum(c.meetings), sum(c.decided_within), sum(c.decided_later),
            sum(c.school_due), sum(c.school_final), sum(c.post16_due), sum(c.post16_final)
        FROM (SELECT * FROM ehcp_dfe_changes_in(cases, old_cohorts, -1) UNION ALL SELECT * FROM ehcp_dfe_changes_in(cases, new_cohorts, 1)) c
        GROUP BY c.council_id, c.year, c.cohort
        HAVING sum(c.placed) <> 0 OR sum(c.unplaced) <> 0 OR sum(c.expected) <> 0 OR sum(c.completed) <> 0 OR sum(c.amended) <> 0
            OR sum(c.maintained) <> 0 OR sum(c.ceased) <> 0 OR sum(c.within_4w) <> 0 OR sum(c.meetings) <> 0 OR sum(c.decided_within)
            <> 0 OR sum(c.decided_later) <> 0 OR sum(c.school_due) <> 0 OR sum(c.school_final) <> 0 OR sum(c.post16_due) <> 0 OR
            sum(c.post16_final) <> 0;
        RETURN NULL;
    END
    $$;
CREATE TRIGGER children_counted_update AFTER UPDATE ON children
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ehcp_count_child_changes();

ALTER TABLE dfe_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE dfe_counts FORCE ROW LEVEL SECURITY;
ALTER TABLE dfe_count_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE dfe_count_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY council_dfe_counts ON dfe_counts
    USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_dfe_count_changes ON dfe_count_changes
    USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
GRANT SELECT, INSERT, UPDATE ON dfe_counts TO ehcp_app;
GRANT SELECT, INSERT, DELETE ON dfe_count_changes TO ehcp_app;

-- Projections computed by an older engine, waiting to be rebuilt from the events: `ehcp serve`,
-- `ehcp scheduler` and `ehcp projections rebuild` rebuild them first and clear the row. Empty on a
-- new database.
CREATE TABLE projections_stale (
    since_version integer PRIMARY KEY,
    reason        text NOT NULL,
    noted_at      timestamptz NOT NULL DEFAULT now()
);
-- Only the owner (BYPASSRLS) reads it: no policy lets anyone else see a row.
ALTER TABLE projections_stale ENABLE ROW LEVEL SECURITY;
ALTER TABLE projections_stale FORCE ROW LEVEL SECURITY;

-- Defaults for local settings that depend on when the council upgraded, used where the settings file
-- does not set them. Owner-only, like projections_stale.
CREATE TABLE local_setting_defaults (
    name   text PRIMARY KEY,
    value  text NOT NULL,
    reason text NOT NULL
);
ALTER TABLE local_setting_defaults ENABLE ROW LEVEL SECURITY;
ALTER TABLE local_setting_defaults FORCE ROW LEVEL SECURITY;

-- Alerts: one row per breach or reminder per recipient (the case's caseworker and their team's
-- managers), written in the same transaction as the scheduler's event, so each exists exactly once.
-- This is also the in-app feed (read_at).
CREATE TABLE alerts (
    alert_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    council_id      uuid NOT NULL,
    case_id         uuid NOT NULL,
    event_version   integer NOT NULL,              -- the DeadlineBreached / DeadlineReminderSent event
    kind            text NOT NULL CHECK (kind IN ('breach', 'reminder')),
    reference       text NOT NULL,
    rule            text NOT NULL,
    rule_key        text,
    due_on          date NOT NULL,
    days_before     integer,                       -- reminders: how many days before the due date
    recipient       text NOT NULL,                 -- a user's name (caseworkers are assigned by name)
    recipient_role  text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz,
    UNIQUE (case_id, event_version, recipient)
);
CREATE INDEX alerts_feed ON alerts (council_id, recipient, alert_id DESC);

-- Webhook subscriptions, per council. `kinds` filters by alert kind ('breach', 'reminder'; empty = all).
CREATE TABLE webhook_subscriptions (
    subscription_id uuid PRIMARY KEY,
    council_id      uuid NOT NULL,
    url             text NOT NULL,
    secret          text NOT NULL,                 -- the HMAC key for X-EHCP-Signature; never returned by the API
    kinds           text[] NOT NULL DEFAULT '{}',
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disabled_at     timestamptz
);

-- Deliveries waiting or done, on two channels: a webhook per alert per matching subscription, and an
-- email per alert its recipient chose or a daily digest per person per day. A dispatcher claims rows
-- with FOR UPDATE SKIP LOCKED and leases them (leased_until) while it sends, so no two send the same
-- row; a crash mid-send lets the lease run out and the row is retried (receivers de-duplicate by
-- delivery_id, which is also the email's Message-ID).
CREATE TABLE outbox (
    delivery_id     uuid PRIMARY KEY,
    council_id      uuid NOT NULL,
    alert_id        bigint REFERENCES alerts,
    subscription_id uuid REFERENCES webhook_subscriptions,
    payload         text NOT NULL,                 -- the exact JSON body that is signed and posted, or the email's content
    created_at      timestamptz NOT NULL DEFAULT now(),
    available_at    timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    delivered_at    timestamptz,
    dead_at         timestamptz,
    last_error      text,
    channel         text NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook', 'email')),
    recipient       text,                          -- email: the user's name; the address is read when sending
    digest_day      date,                          -- email: the day a daily digest covers
    transport       text,                          -- email: 'smtp' or 'notify', as sent
    provider_id     text,                          -- GOV.UK Notify's notification id
    delivery_status text,                          -- Notify's status read back: delivered, permanent-failure, …
    status_checked_at timestamptz,
    CONSTRAINT outbox_channel_shape CHECK (
        (channel = 'webhook' AND subscription_id IS NOT NULL AND alert_id IS NOT NULL)
        OR (channel = 'email' AND subscription_id IS NULL AND recipient IS NOT NULL AND (alert_id IS NULL) <> (digest_day IS NULL)))
);
CREATE INDEX outbox_pending ON outbox (channel, available_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE UNIQUE INDEX outbox_email_alert ON outbox (alert_id) WHERE channel = 'email';
CREATE UNIQUE INDEX outbox_email_digest ON outbox (council_id, recipient, digest_day) WHERE digest_day IS NOT NULL;
CREATE INDEX outbox_notify_status ON outbox (delivered_at) WHERE provider_id IS NOT NULL AND status_checked_at IS NULL;
CREATE INDEX outbox_dead ON outbox (council_id, dead_at) WHERE dead_at IS NOT NULL;

-- Every read or change of a child's personal record, by whom and in which request (append-only for the app).
CREATE TABLE access_log (
    access_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    council_id  uuid NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     uuid,
    actor       text NOT NULL,
    action      text NOT NULL,
    case_id     uuid,
    child_id    uuid,
    request_id  text NOT NULL,                 -- the server's own id for the request
    client_request_id text,                    -- X-Request-Id as the client sent it, kept only beside ours
    reason      text                           -- why, where the action needs one (an erasure)
);
CREATE INDEX access_log_child ON access_log (council_id, child_id, access_id);

-- Row-level security: a row is visible only to transactions that set its council. The council is read
-- once per statement (the sub-select is an init plan), not once per row scanned. FORCE makes the
-- policies bind the tables' owner too, unless it is explicitly a superuser or BYPASSRLS.
ALTER TABLE access_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_log FORCE ROW LEVEL SECURITY;
CREATE POLICY council_access_log ON access_log USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE children ENABLE ROW LEVEL SECURITY;
ALTER TABLE children FORCE ROW LEVEL SECURITY;
ALTER TABLE case_streams ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_streams FORCE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotent_responses ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotent_responses FORCE ROW LEVEL SECURITY;
ALTER TABLE case_summary ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_summary FORCE ROW LEVEL SECURITY;
ALTER TABLE deadlines ENABLE ROW LEVEL SECURITY;
ALTER TABLE deadlines FORCE ROW LEVEL SECURITY;
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE alerts FORCE ROW LEVEL SECURITY;
ALTER TABLE webhook_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY council_users ON users USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_children ON children USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_streams ON case_streams USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_events ON events USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_idempotency ON idempotency_keys USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_responses ON idempotent_responses USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_summary ON case_summary USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_deadlines ON deadlines USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_outbox ON outbox USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_alerts ON alerts USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));
CREATE POLICY council_webhooks ON webhook_subscriptions USING (council_id = (SELECT ehcp_council())) WITH CHECK (council_id = (SELECT ehcp_council()));

-- What the application role may do. Note: events get SELECT and INSERT only, never UPDATE or DELETE.
GRANT USAGE ON SCHEMA public TO ehcp_app;
GRANT SELECT ON councils TO ehcp_app;
GRANT SELECT (user_id, council_id, name, role, team, created_at, disabled_at,
    email, email_on_breach, email_on_reminder, email_digest, email_failed_at, email_failure) ON users TO ehcp_app;
-- People choose their own emails; the dispatcher notes an address that bounces. The address itself is the owner's to set.
GRANT UPDATE (email_on_breach, email_on_reminder, email_digest, email_failed_at, email_failure) ON users TO ehcp_app;
GRANT EXECUTE ON FUNCTION ehcp_authenticate(text) TO ehcp_app;
GRANT SELECT, INSERT ON events, idempotency_keys, idempotent_responses, access_log TO ehcp_app;
GRANT SELECT, INSERT, UPDATE ON case_streams, children TO ehcp_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON case_summary, deadlines TO ehcp_app;
GRANT SELECT, INSERT, UPDATE ON outbox, alerts, webhook_subscriptions TO ehcp_app;
-- The service reads which schema version the database is at, and refuses to run on a stale one.
GRANT SELECT ON schema_migrations TO ehcp_app;

-- Web sessions (migration 8).
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
