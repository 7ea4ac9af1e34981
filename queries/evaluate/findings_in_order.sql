-- One batch of findings in the canonical order: `ord` from $first to $last (the table is not stored sorted: the
-- filter on `ord` picks the batch's rows, then they are sorted).
SELECT control_id, status, severity, resource_id, node_pool, message, title, cluster, subscription_id,
       subscription_name, resource_group, location, tags, evidence, remediation, waiver
FROM eval_findings WHERE ord BETWEEN $first AND $last ORDER BY ord;
