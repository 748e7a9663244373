-- Migration 9: clocks people can act on. A duty clock the case moved past while it was overdue (a
-- withdrawal, a cessation, a transfer out, a final plan issued without it) is stored as 'missed', with
-- the day it happened, instead of staying 'open' for ever: it leaves the work tray, the alerts and the
-- breach report's open list, and still counts against the measures. An informational clock (the
-- family's appeal window) reads 'expired' once past, never 'breached'.
ALTER TABLE deadlines DROP CONSTRAINT deadlines_status_check;
ALTER TABLE deadlines ADD CONSTRAINT deadlines_status_check
    CHECK (status IN ('open', 'met', 'metLate', 'breached', 'excepted', 'cancelled', 'missed'));
ALTER TABLE deadlines ADD COLUMN moved_past_on date;
-- The DfE's annual-review measures and SEN2's review outcome read the decision that met a review clock.
ALTER TABLE deadlines ADD COLUMN review_outcome text;
-- Whether a plan was in place on a census day depends on when it moved away, not on where it stands now.
ALTER TABLE case_summary ADD COLUMN transferred_out_on date;
CREATE INDEX deadlines_moved_past ON deadlines (council_id, moved_past_on)
    INCLUDE (status, rule, team, caseworker, case_id, key, due_on) WHERE moved_past_on IS NOT NULL;
-- A rule's clocks by due date and by the day met, covering what the timeliness and DfE measures read.
DROP INDEX deadlines_council_rule_due;
CREATE INDEX deadlines_council_rule_due ON deadlines (council_id, rule, due_on)
    INCLUDE (case_id, met_on, status, review_outcome);
DROP INDEX deadlines_council_rule_met;
CREATE INDEX deadlines_council_rule_met ON deadlines (council_id, rule, met_on)
    INCLUDE (case_id, due_on, excepted) WHERE met_on IS NOT NULL;

CREATE OR REPLACE FUNCTION ehcp_deadline_status(p_status text, p_kind text, p_due date, p_excepted boolean, p_today date)
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

-- Projections computed by an older engine, waiting to be rebuilt from the events: `ehcp serve`,
-- `ehcp scheduler` and `ehcp projections rebuild` rebuild them first and clear the row.
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
-- Decisions made before this upgrade have no recorded notices: only later ones open R-DECISION-NOTICE-5WD.
INSERT INTO local_setting_defaults (name, value, reason)
VALUES ('decisionNoticesFrom', current_date::text, 'migration 9: decision notices are recorded from the upgrade on');
INSERT INTO projections_stale (since_version, reason) VALUES (9, 'missed and expired clocks; review outcomes');
