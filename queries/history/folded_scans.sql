-- The scans the ledger holds already.
SELECT scan_id FROM upgrade_ledger_scans;
