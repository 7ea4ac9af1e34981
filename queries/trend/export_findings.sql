-- `auditor export`: every finding of every scan under the exported policy, from the findings cache
-- (variable auditor_evaluator, the evaluator key).
SELECT
    f.scan_id,
    CAST(s.started_at AS DATE)         AS scan_date,
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
WHERE f.evaluator = getvariable('auditor_evaluator')
