-- Empty the ledger (a rebuild, or a scan that arrived older than one already folded).
DELETE FROM upgrade_events;
DELETE FROM upgrade_snapshots;
DELETE FROM upgrade_overrides;
DELETE FROM upgrade_ledger_scans;
