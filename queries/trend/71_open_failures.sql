-- 70_open_failures.sql for the mask form (11_masks.sql): there a finding is observed once per scan, so a run whose
-- last failing scan is the newest ($last) is one that fails in it.
SELECT k.control_id, k.resource_id, nullif(k.node_pool, ''), k.cluster, k.resource_group, k.subscription_id,
       r.first_idx, r.scans
FROM _tgone r
JOIN finding_keys k ON k.key_id = r.k
WHERE r.ended_by IS NULL AND r.last_idx = $last
-- Oldest run first, then control, lower-case resource id, pool: the trend's order (auditor/trend.py, _runs).
ORDER BY r.first_idx, k.control_id, k.resource_key, k.node_pool
