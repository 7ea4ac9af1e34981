-- The scans whose id starts with $prefix (columns in the order of auditor/store.py Scan).
SELECT scan_id, started_at, finished_at, status, tool_version, cloud, endpoint, scope, stats, evidence_sha256
FROM scans
WHERE starts_with(scan_id, $prefix)
ORDER BY scan_id;
