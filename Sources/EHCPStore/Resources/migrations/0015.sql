-- Migration 15, the DfE counts: the DfE's measures for a year (docs/reports.md, "The DfE's measures")
-- per council, year and birth cohort, kept in the same transaction as the case summaries, as the
-- caseload counts are (migration 13). At 1,000,000 cases the measures read every plan in place at the
-- census (431,206), its child's age and the year's reviews, in about 4 s.
--
-- Each summary carries its case's part in each year's measures (`dfe_years`, computed with the case's
-- clocks by `DfEYears` in EHCPStore), so that the counts follow from the summary and the child's date of
-- birth alone. Plans in place at a census are plans made by then less plans ended by then, by the year
-- of the first census on or after the day; a year's reviews count only for plans in place at its
-- census. The age on 31 August of a year is the year less the child's cohort (born September to August).
ALTER TABLE case_summary ADD COLUMN dfe_years jsonb;

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

-- The summaries' trigger now keeps both counts.
CREATE OR REPLACE FUNCTION ehcp_count_case_changes() RETURNS trigger
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
CREATE OR REPLACE FUNCTION ehcp_case_counts_truncated() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN DELETE FROM case_counts; DELETE FROM case_count_changes; DELETE FROM dfe_counts; DELETE FROM dfe_count_changes;
        RETURN NULL; END $$;

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

-- No summary has its years yet: the rebuild writes them, and the trigger counts them. The counts of
-- the summaries as they stand (the plans in place) go first, so that the rebuild's changes add to them.
INSERT INTO dfe_counts (council_id, year, cohort, placed, unplaced, expected, completed, amended, maintained, ceased, within_4w,
    meetings, decided_within, decided_later, school_due, school_final, post16_due, post16_final)
SELECT c.council_id, c.year, c.cohort, sum(c.placed), sum(c.unplaced), sum(c.expected), sum(c.completed), sum(c.amended),
    sum(c.maintained), sum(c.ceased), sum(c.within_4w), sum(c.meetings), sum(c.decided_within), sum(c.decided_later),
    sum(c.school_due), sum(c.school_final), sum(c.post16_due), sum(c.post16_final)
FROM case_summary r, LATERAL ehcp_dfe_changes(ARRAY[r], 1) c
GROUP BY c.council_id, c.year, c.cohort;
INSERT INTO projections_stale (since_version, reason) VALUES (15, 'each case''s part in the DfE''s measures, for the DfE counts');
