-- For each subscription of $subscriptions (those the scan has no display name for): the first non-empty
-- subscription name of its findings in the report's order (control, then the lower-cased subscription name,
-- resource group and cluster, then the pool, ties in canonical order). Only for ASCII names and ids
-- (report/findings_ascii.sql): lower() is then Python's.
SELECT subscription_id,
       arg_min(
           subscription_name,
           {'control': control_id, 'subscription': lower(subscription_name), 'group': lower(resource_group),
            'cluster': lower(cluster), 'pool': coalesce(node_pool, ''), 'ord': ord}
       ) AS name
FROM eval_findings
WHERE list_contains($subscriptions, subscription_id) AND coalesce(subscription_name, '') <> ''
GROUP BY subscription_id
ORDER BY subscription_id;
