-- One batch of the evaluation's findings in the canonical order (`ord` from $first to $last), in the field order
-- of auditor.controls.Finding (tags and waiver as JSON text).
SELECT control_id, status, severity, resource_id, node_pool, message, title, cluster, subscription_id,
       subscription_name, resource_group, location, tags, evidence, remediation, waiver
FROM eval_findings WHERE ord BETWEEN $first AND $last ORDER BY ord
