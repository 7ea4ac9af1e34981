-- Per subscription: its clusters and failing clusters (Fleet Manager resources are not clusters), and its first
-- non-empty subscription name in the report's order (control, then the lower-cased subscription name, resource
-- group and cluster, then the pool, ties in canonical order). Only for ASCII names and ids
-- (report/findings_ascii.sql): lower() is then Python's.
SELECT subscription_id,
       count(DISTINCT resource_id) FILTER (WHERE NOT fleet) AS clusters,
       count(DISTINCT resource_id) FILTER (WHERE NOT fleet AND status = 'fail') AS failing_clusters,
       arg_min(
           subscription_name,
           {'control': control_id, 'subscription': lower(subscription_name), 'group': lower(resource_group),
            'cluster': lower(cluster), 'pool': coalesce(node_pool, ''), 'ord': ord}
       ) FILTER (WHERE coalesce(subscription_name, '') <> '') AS name
FROM (
    SELECT *, contains(lower(resource_id), '/providers/microsoft.containerservice/fleets/') AS fleet
    FROM eval_findings
)
GROUP BY subscription_id
ORDER BY subscription_id;
