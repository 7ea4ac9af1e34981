-- Nodes outside agent pools that no control can see, one row per cluster and kind (model table unseen_nodes).
SELECT u.cluster_id, c.name, coalesce(nullif(s.display_name, ''), c.subscription_id), u.node_pool, u.kind, u.detail
FROM unseen_nodes u JOIN clusters c USING (cluster_id) LEFT JOIN subscriptions s USING (subscription_id)
ORDER BY lower(c.name), u.cluster_id, u.kind
