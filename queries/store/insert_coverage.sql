-- A scan's subscriptions in scope and whether their clusters are all in the evidence ($coverage: list of structs).
INSERT INTO scan_coverage
SELECT
    $scan_id, c.subscription_id, c.display_name, c.in_scope_by, c.listed, c.cluster_read, c.graph_clusters,
    c.arm_clusters, c.missing_clusters, c.status, c.note
FROM (SELECT unnest($coverage) AS c);
