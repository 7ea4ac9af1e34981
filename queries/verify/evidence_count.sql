-- Evidence items the scan stored (what its evidence digest covers).
SELECT count(*) FROM evidence WHERE scan_id = $scan_id
