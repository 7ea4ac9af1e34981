-- The resources with a cluster name that fail a control (subscription-level findings have no cluster).
SELECT count(DISTINCT resource_id) FROM eval_findings WHERE status = 'fail' AND coalesce(cluster, '') <> '';
