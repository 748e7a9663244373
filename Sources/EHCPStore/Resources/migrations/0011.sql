-- Migration 11: the clock counts. Every deadline row carries the case's team, and R-FINAL-20W rows
-- whether K-20W counts them, so that the counts below follow from the deadline rows alone.
ALTER TABLE deadlines ADD COLUMN k20w text CHECK (k20w IN ('dfe', 'all'));

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
    AS $$ BEGIN DELETE FROM clock_counts; DELETE FROM clock_count_changes; RETURN NULL; END $$;
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

-- The counts of the rows as they stand. Until the rebuild below rewrites them, no 20-week clock has its
-- k20w and rows that are not open duties have no team; the rebuild's deletions take away exactly what
-- is counted here, and its new rows are counted by the trigger.
INSERT INTO clock_counts (council_id, rule, counted_on, team, excepted, k20w, clocks, within, request_days, over_52)
SELECT c.council_id, c.rule, c.counted_on, c.team, c.excepted, c.k20w, sum(c.clocks), sum(c.within), sum(c.request_days), sum(c.over_52)
FROM deadlines d, LATERAL ehcp_clock_changes(ARRAY[d], 1) c
GROUP BY c.council_id, c.rule, c.counted_on, c.team, c.excepted, c.k20w;
INSERT INTO projections_stale (since_version, reason) VALUES (11, 'the team on every clock and K-20W on the 20-week clock, for the clock counts');
