-- The findings of eval_findings with their identity.
INSERT INTO findings
SELECT $scan_id, $evaluator, k.key_id, v.control_id, v.status, v.severity, v.resource_id, v.node_pool, v.cluster,
       v.resource_group, v.subscription_id, v.subscription_name, v.location, v.message, v.remediation
FROM eval_findings v
JOIN finding_keys k
    ON k.control_id = v.control_id AND k.resource_key = lower(v.resource_id)
   AND k.node_pool = coalesce(v.node_pool, '')
