-- Every committed scan, oldest first: the order the ledger folds scans in (auditor/ledger.py).
SELECT scan_id, started_at FROM scans ORDER BY started_at, scan_id;
