-- The evaluation's findings that record a waiver (active or expired), in canonical order (`ord`), in the field
-- order of auditor.controls.Finding (tags and waiver as JSON text).
SELECT control_id, status, severity, resource_id, node_pool, message, title, cluster, subscription_id,
       subscription_name, resource_group, location, tags, evidence, remediation, waiver
FROM eval_findings WHERE waiver IS NOT NULL ORDER BY ord
