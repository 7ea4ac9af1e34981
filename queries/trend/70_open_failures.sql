-- Failures of the newest scan ($last) whose run is still open, with where the run started.
SELECT k.control_id, k.resource_id, nullif(k.node_pool, ''), k.cluster, k.resource_group, k.subscription_id,
       r.first_idx, r.scans
FROM _tgone r
JOIN finding_keys k ON k.key_id = r.k
JOIN _tf f ON f.k = r.k AND f.idx = $last AND f.status = 'fail'
WHERE r.ended_by IS NULL AND r.last_idx = $last
-- Oldest run first, then control, lower-case resource id, pool: the trend's order (auditor/trend.py, _runs).
ORDER BY r.first_idx, k.control_id, k.resource_key, k.node_pool
