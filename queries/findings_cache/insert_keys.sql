-- New finding identities (control, lower-case resource, pool) out of eval_findings, numbered after the last one.
INSERT INTO finding_keys
SELECT (SELECT coalesce(max(key_id), 0) FROM finding_keys)
       + row_number() OVER (ORDER BY n.control_id, n.resource_key, n.node_pool), n.*
FROM (
    SELECT control_id, lower(resource_id) AS resource_key, coalesce(node_pool, '') AS node_pool,
           min(resource_id), min(cluster), min(resource_group), min(subscription_id)
    FROM eval_findings GROUP BY ALL
) n
ANTI JOIN finding_keys k
    ON k.control_id = n.control_id AND k.resource_key = n.resource_key AND k.node_pool = n.node_pool
