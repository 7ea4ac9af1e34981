-- The $limit clusters with the most failing controls (a cluster: a lower-cased resource id, not a Fleet Manager
-- resource, not a subscription-level finding), ranked by failing controls, those of a severity in $serious, failing
-- findings, then the lower-cased cluster name and the id; each with its controls, the severities of its failures
-- and its first failing finding in the report's order (control, then the lower-cased subscription name, resource
-- group and cluster, then the pool, ties in canonical order). Only for ASCII names and ids
-- (report/findings_ascii.sql): lower() is then Python's. Unless $exact, the first finding is the one first in
-- `ord`, the same one where each cluster's findings share their subscription name, resource group and cluster (the
-- canonical order is by control, then resource, then pool, as the report's is then): about half the cost.
-- `varies` is true when some cluster's findings do not (then the caller asks again with $exact).
WITH clusters AS (
    SELECT lower(resource_id) AS cluster_key,
           list_sort(list(DISTINCT control_id)) AS controls,
           count(DISTINCT control_id) FILTER (WHERE list_contains($serious, severity)) AS serious,
           count(*) AS failing,
           list_sort(list(DISTINCT severity)) AS severities,
           arg_min(
               {'cluster': cluster, 'resource_group': resource_group, 'subscription_name': subscription_name,
                'subscription_id': subscription_id},
               CASE WHEN $exact THEN {'control': control_id, 'subscription': lower(subscription_name),
                                      'group': lower(resource_group), 'cluster': lower(cluster),
                                      'pool': coalesce(node_pool, ''), 'ord': ord}
                    ELSE {'control': NULL, 'subscription': NULL, 'group': NULL, 'cluster': NULL, 'pool': NULL,
                          'ord': ord} END
           ) AS first,
           count(subscription_name) NOT IN (0, count(*))
               OR min(subscription_name) IS DISTINCT FROM max(subscription_name)
               OR min(resource_group) IS DISTINCT FROM max(resource_group)
               OR count(resource_group) NOT IN (0, count(*))
               OR min(cluster) IS DISTINCT FROM max(cluster) AS varies
    FROM eval_findings
    WHERE status = 'fail' AND coalesce(cluster, '') <> '' AND starts_with(lower(resource_id), '/subscriptions/')
      AND NOT contains(lower(resource_id), '/providers/microsoft.containerservice/fleets/')
    GROUP BY cluster_key
)
SELECT cluster_key, controls, serious, failing, severities, first, bool_or(varies) OVER () AS varies
FROM clusters
ORDER BY len(controls) DESC, serious DESC, failing DESC, lower(struct_extract(first, 'cluster')), cluster_key
LIMIT $limit;
