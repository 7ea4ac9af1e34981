-- The scan's population reconciliation, one row per subscription in scope.
SELECT subscription_id, display_name, in_scope_by, listed, cluster_read, graph_clusters, arm_clusters,
       missing_clusters, status, note
FROM scan_coverage WHERE scan_id = $scan_id ORDER BY subscription_id
