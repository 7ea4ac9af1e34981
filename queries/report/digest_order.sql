-- What could make `ord` differ from the order the Python digest sorts in (control, lower-case resource id, pool;
-- ties kept in the report's order): each non-ASCII resource id with DuckDB's lower case of it (Python's may differ
-- there; ASCII case folding is the same in both), and the number of (control, resource, pool) keys whose findings
-- differ in subscription name, resource group or cluster (the report's order could then break the tie otherwise).
SELECT 'id' AS kind, resource_id, lower(resource_id) AS lowered
FROM (SELECT DISTINCT resource_id FROM eval_findings)
WHERE strlen(resource_id) <> length(resource_id)
UNION ALL
SELECT 'ties', NULL, NULL
FROM eval_findings
GROUP BY control_id, lower(resource_id), coalesce(node_pool, '')
HAVING count(DISTINCT (subscription_name, resource_group, cluster)) > 1
ORDER BY ALL;
