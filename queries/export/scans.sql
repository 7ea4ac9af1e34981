-- `auditor export`: one row per committed scan, with the fleet size and node-image age summary of its cached
-- evaluation under the exported policy ($evaluator, the evaluator key), for the scans $scan_ids (one partition).
SELECT
    s.scan_id,
    s.started_at,
    s.finished_at,
    s.status,
    s.tool_version,
    s.cloud,
    s.endpoint,
    s.evidence_sha256,
    e.subscriptions,
    e.clusters,
    e.pools,
    e.findings,
    CAST(e.versions AS VARCHAR)        AS versions_json,
    e.image_age_median,
    e.image_age_p90,
    e.policy_sha256,
    e.policy_source
FROM scans s
LEFT JOIN evaluations e ON e.scan_id = s.scan_id AND e.evaluator = $evaluator
WHERE s.scan_id IN (SELECT unnest($scan_ids))
