-- The $limit clusters with the most failing controls (a cluster: a lower-cased resource id, not a Fleet Manager
-- resource, not a subscription-level finding), ranked here by failing controls, those of a severity in $serious,
-- failing findings, then the lower-cased cluster name and the id (ten rows to Python rather than ten thousand with
-- their lists); each with its controls, the severities of its failures and its first failing finding in the
-- report's order (control, then the lower-cased subscription name, resource group and cluster, then the pool, ties
-- in canonical order). Only for ASCII names and ids (report/findings_ascii.sql): lower() is then Python's.
WITH clusters AS (
    SELECT lower(resource_id) AS cluster_key,
           list_sort(list(DISTINCT control_id)) AS controls,
           count(DISTINCT control_id) FILTER (WHERE list_contains($serious, severity)) AS serious,
           count(*) AS failing,
           list_sort(list(DISTINCT severity)) AS severities,
           arg_min(
               {'cluster': cluster, 'resource_group': resource_group, 'subscription_name': subscription_name,
                'subscription_id': subscription_id},
               {'control': control_id, 'subscription': lower(subscription_name), 'group': lower(resource_group),
                'cluster': lower(cluster), 'pool': coalesce(node_pool, ''), 'ord': ord}
           ) AS first
    FROM eval_findings
    WHERE status = 'fail' AND coalesce(cluster, '') <> '' AND starts_with(lower(resource_id), '/subscriptions/')
      AND NOT contains(lower(resource_id), '/providers/microsoft.containerservice/fleets/')
    GROUP BY cluster_key
)
SELECT cluster_key, controls, serious, failing, severities, first
FROM clusters
ORDER BY len(controls) DESC, serious DESC, failing DESC, lower(struct_extract(first, 'cluster')), cluster_key
LIMIT $limit;
