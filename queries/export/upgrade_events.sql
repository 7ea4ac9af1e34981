-- `auditor export`: the upgrade ledger's events first seen by the scans $scan_ids (one partition: an event
-- belongs to the scan that first saw it).
SELECT * FROM upgrade_events WHERE first_seen_scan_id IN (SELECT unnest($scan_ids))
