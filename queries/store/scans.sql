-- Every committed scan, oldest first (columns in the order of auditor/store.py Scan).
SELECT scan_id, started_at, finished_at, status, tool_version, cloud, endpoint, scope, stats, evidence_sha256
FROM scans
ORDER BY started_at, scan_id;
