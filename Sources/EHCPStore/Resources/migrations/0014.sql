-- Migration 14, the duty counts: the breach report's totals. Its first page at 1,000,000 cases grouped
-- every unmet duty falling due by the as-of day (239,713 of them) in about 300 ms; the same figures are
-- about 24,000 counts per council, rule, due day, start day, team, caseworker and exception. Kept in
-- the same transaction as the deadline rows, by the trigger that keeps the clock counts (migration 11).
--
-- Counted: unmet duties (status 'open', kind 'duty') by due and start day, which are the report's open
-- duties as of any day on or after their start; and clocks the case moved past ('missed') by the day it
-- did, which are its missed section. The duties met or moved past only after the as-of day are few, and
-- `BreachReport` reads them from the rows.
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

-- The deadline rows' trigger now keeps both counts.
CREATE OR REPLACE FUNCTION ehcp_count_clock_changes() RETURNS trigger
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
CREATE OR REPLACE FUNCTION ehcp_clock_counts_truncated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN DELETE FROM clock_counts; DELETE FROM clock_count_changes; DELETE FROM duty_counts; DELETE FROM duty_count_changes; RETURN NULL; END $$;

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

-- The counts of the rows as they stand.
INSERT INTO duty_counts (council_id, status, due_on, moved_past_on, rule, started_on, team, caseworker, excepted, duties)
SELECT c.council_id, c.status, c.due_on, c.moved_past_on, c.rule, c.started_on, c.team, c.caseworker, c.excepted, sum(c.duties)
FROM deadlines d, LATERAL ehcp_duty_changes(ARRAY[d], 1) c
GROUP BY c.council_id, c.status, c.due_on, c.moved_past_on, c.rule, c.started_on, c.team, c.caseworker, c.excepted;
