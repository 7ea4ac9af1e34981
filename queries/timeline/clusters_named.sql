-- The clusters, as of the model's scan, that $cluster names: by their name (any case) or by their ARM id.
SELECT DISTINCT cluster_id
FROM history_snapshots
WHERE lower(name) = lower($cluster) OR cluster_id = lower($cluster)
ORDER BY cluster_id;
