-- The report's order of the findings (control, subscription name, resource group, cluster, pool; the names
-- lower-cased; ties in the canonical order): each finding's 0-based position in the canonical order, in turn.
SELECT ord - 1
FROM eval_findings
ORDER BY control_id, lower(subscription_name), lower(resource_group), lower(cluster), coalesce(node_pool, ''), ord;
