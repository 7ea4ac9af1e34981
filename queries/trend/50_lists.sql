-- Each scan's lists of new, resolved and unverified findings as JSON arrays, in a total order.
SELECT n.idx, n.list,
       to_json(list({'control_id': k.control_id, 'resource_id': k.resource_id,
                     'node_pool': nullif(k.node_pool, ''), 'cluster': k.cluster, 'before': n.other}
                    ORDER BY k.control_id, k.resource_key, k.node_pool))
FROM _tnew n JOIN finding_keys k ON k.key_id = n.k
WHERE n.list = 'new_findings'
GROUP BY ALL
UNION ALL
SELECT n.idx, n.list,
       to_json(list({'control_id': k.control_id, 'resource_id': k.resource_id,
                     'node_pool': nullif(k.node_pool, ''), 'cluster': k.cluster, 'now': n.other}
                    ORDER BY k.control_id, k.resource_key, k.node_pool))
FROM _tnew n JOIN finding_keys k ON k.key_id = n.k
WHERE n.list != 'new_findings'
GROUP BY ALL
