-- The failing findings of the controls a waiver names ($controls).
SELECT rid, control_id, resource_id, node_pool, message FROM eval_rows
WHERE status = 'fail' AND list_contains($controls::VARCHAR[], control_id) ORDER BY rid;
