-- The first row a control should never return: a status outside the vocabulary ($statuses), or no resource.
SELECT control_id, resource_id, status, status IS NULL OR NOT list_contains($statuses::VARCHAR[], status) AS bad_status
FROM control_rows
WHERE status IS NULL OR NOT list_contains($statuses::VARCHAR[], status) OR resource_id IS NULL OR resource_id = ''
ORDER BY control_id, bad_status DESC, resource_id, status
LIMIT 1;
