-- The evaluation's findings of control $control_id with a status in $statuses, in canonical order (`ord`), in the
-- field order of auditor.controls.Finding (tags and waiver as JSON text).
SELECT control_id, status, severity, resource_id, node_pool, message, title, cluster, subscription_id,
       subscription_name, resource_group, location, tags, evidence, remediation, waiver
FROM eval_findings WHERE control_id = $control_id AND list_contains($statuses, status) ORDER BY ord
