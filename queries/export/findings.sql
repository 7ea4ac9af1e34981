-- `auditor export`: every finding of every scan under the exported policy, from the findings cache
-- ($evaluator, the evaluator key), for the scans $scan_ids (one partition).
SELECT
    f.scan_id,
    s.started_at                       AS scan_started_at,
    f.control_id,
    f.status,
    f.severity,
    f.resource_id,
    f.node_pool,
    f.cluster,
    f.resource_group,
    f.subscription_id,
    f.subscription_name,
    f.location,
    f.message,
    f.remediation
FROM findings f
JOIN scans s USING (scan_id)
WHERE f.evaluator = $evaluator AND f.scan_id IN (SELECT unnest($scan_ids))
