-- Migration 2: a deadline's caseworker and team are read from its case (case_summary), not copied
-- onto every deadline row. The copies made each reassignment rewrite all of a case's deadline rows
-- and their indexes (about fifteen rows and five indexes); readers now join case_summary, which they
-- already did for the case reference and stage.
DROP INDEX deadlines_open_duty_by_due;
ALTER TABLE deadlines DROP COLUMN caseworker, DROP COLUMN team;
CREATE INDEX deadlines_open_duty_by_due ON deadlines (council_id, due_on)
    INCLUDE (started_on, excepted, rule, case_id, key) WHERE status = 'open' AND kind = 'duty';
