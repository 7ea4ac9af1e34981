-- The ledger as of history_as_of, copied into temp tables that the scans the ledger lacks are then folded into
-- (auditor/ledger.py as_of; the ledger itself is not written). $from_scratch: start empty and fold every scan,
-- for a pending scan older than one the ledger holds. history_* read the copies.
CREATE TEMP TABLE as_of_events AS
SELECT e.* FROM upgrade_events e, history_as_of a
WHERE NOT $from_scratch AND (e.first_seen_at < a.started_at OR (e.first_seen_at = a.started_at AND e.first_seen_scan_id <= a.scan_id));

CREATE TEMP TABLE as_of_snapshots AS
SELECT s.* FROM upgrade_snapshots s, history_as_of a
WHERE NOT $from_scratch AND (s.taken_at < a.started_at OR (s.taken_at = a.started_at AND s.scan_id <= a.scan_id));

CREATE TEMP TABLE as_of_overrides AS
SELECT o.* FROM upgrade_overrides o, history_as_of a
WHERE NOT $from_scratch AND (o.first_seen_at < a.started_at OR (o.first_seen_at = a.started_at AND o.first_seen_scan_id <= a.scan_id));

CREATE TEMP VIEW history_events AS SELECT * FROM as_of_events;
CREATE TEMP VIEW history_snapshots AS SELECT * FROM as_of_snapshots;
CREATE TEMP VIEW history_overrides AS SELECT * FROM as_of_overrides;
