-- Migration 13, the caseload counts: the caseload report's figures (requests, decisions, plans, cessations, disputes,
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

CREATE FUNCTION ehcp_count_case_changes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        removed case_summary[] := '{}';
        added case_summary[] := '{}';
    BEGIN
        IF TG_OP <> 'INSERT' THEN removed := ARRAY(SELECT o FROM old_rows o); END IF;
        IF TG_OP <> 'DELETE' THEN added := ARRAY(SELECT n FROM new_rows n); END IF;
        INSERT INTO case_count_changes (council_id, kind, counted_on, cases)
        SELECT c.council_id, c.kind, c.counted_on, sum(c.cases)
        FROM (SELECT * FROM ehcp_case_changes(removed, -1) UNION ALL SELECT * FROM ehcp_case_changes(added, 1)) c
        GROUP BY c.council_id, c.kind, c.counted_on
        HAVING sum(c.cases) <> 0;
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
    AS $$ BEGIN DELETE FROM case_counts; DELETE FROM case_count_changes; RETURN NULL; END $$;
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

-- The counts of the summaries as they stand.
INSERT INTO case_counts (council_id, kind, counted_on, cases)
SELECT c.council_id, c.kind, c.counted_on, sum(c.cases)
FROM case_summary s, LATERAL ehcp_case_changes(ARRAY[s], 1) c
GROUP BY c.council_id, c.kind, c.counted_on;
