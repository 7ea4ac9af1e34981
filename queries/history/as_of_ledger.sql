-- The ledger as of history_as_of, read in place: every event, snapshot and upgrade override first seen in that
-- scan or an earlier one (by start time, then scan id). Used when the ledger holds every scan up to it.
CREATE TEMP VIEW history_events AS
SELECT e.* FROM upgrade_events e, history_as_of a
WHERE e.first_seen_at < a.started_at OR (e.first_seen_at = a.started_at AND e.first_seen_scan_id <= a.scan_id);

CREATE TEMP VIEW history_snapshots AS
SELECT s.* FROM upgrade_snapshots s, history_as_of a
WHERE s.taken_at < a.started_at OR (s.taken_at = a.started_at AND s.scan_id <= a.scan_id);

CREATE TEMP VIEW history_overrides AS
SELECT o.* FROM upgrade_overrides o, history_as_of a
WHERE o.first_seen_at < a.started_at OR (o.first_seen_at = a.started_at AND o.first_seen_scan_id <= a.scan_id);
