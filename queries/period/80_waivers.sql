-- Waived and failing verdicts of the period for the controls that the policy's waivers name ($controls), so
-- that each waiver can be credited with what it covered and what failed again once it expired (docs/period.md).
SELECT o.control_id, key.resource_id, nullif(key.node_pool, '') AS node_pool, key.cluster,
       CAST(s.started_at AS DATE) AS scan_date, o.status
FROM period_observations o
JOIN period_scans s ON s.idx = o.idx
JOIN finding_keys key ON key.key_id = o.k
WHERE o.in_period AND o.status IN ('waived', 'fail') AND list_contains($controls, o.control_id)
ORDER BY o.control_id, key.resource_key, key.node_pool, s.idx;
