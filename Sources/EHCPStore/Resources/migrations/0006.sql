-- Migration 6: one way to append. Events are written by one statement the service sends (EventRows in
-- EHCPStore), for one case or many; the function that did the same for one case goes.
DROP FUNCTION ehcp_append(uuid, uuid, integer, text[], smallint[], text[], date[], text[]);
