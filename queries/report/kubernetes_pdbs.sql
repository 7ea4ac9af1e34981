-- The blocking PodDisruptionBudgets of the clusters $cluster_ids (model tables k8s_pdb_verdicts, k8s_status).
SELECT v.cluster_id, v.namespace, v.name, v.min_available, v.max_unavailable, v.expected, v.healthy,
       v.disruptions_allowed, v.workload_count, v.workloads, v.reason, s.context
FROM k8s_pdb_verdicts v JOIN k8s_status s USING (cluster_id)
WHERE v.status = 'fail' AND v.cluster_id IN (SELECT unnest($cluster_ids))
ORDER BY v.cluster_id, v.namespace, v.name, v.reason
