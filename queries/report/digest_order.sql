-- What could make `ord` differ from the order the Python digest sorts in (control, lower-case resource id, pool;
-- ties kept in the report's order): each non-ASCII resource id with DuckDB's lower case of it (Python's may differ
-- there; ASCII case folding is the same in both), and a 'ties' row for each lower-case resource id whose findings
-- differ in subscription name, resource group or cluster (the report's order could then break a tie otherwise);
-- and a 'gaps' row when `ord` does not number the findings from 1 without a gap, as queries/report/findings_json.sql
-- expects.
-- Broader than a tie needs (the same control and pool): grouped by resource id first, ten thousand rows rather
-- than every finding, it is several times cheaper, and a scan's context is one per resource id anyway.
-- A column holds one value in a group when it is NULL throughout or set throughout with min = max.
WITH per_id AS (
    SELECT resource_id,
           count(subscription_name) NOT IN (0, count(*))
               OR min(subscription_name) IS DISTINCT FROM max(subscription_name)
               OR count(resource_group) NOT IN (0, count(*))
               OR min(resource_group) IS DISTINCT FROM max(resource_group)
               OR count(cluster) NOT IN (0, count(*))
               OR min(cluster) IS DISTINCT FROM max(cluster) AS varies,
           min(subscription_name) AS subscription_name, min(resource_group) AS resource_group,
           min(cluster) AS cluster
    FROM eval_findings
    GROUP BY resource_id
)
SELECT 'id' AS kind, resource_id, lower(resource_id) AS lowered
FROM per_id
WHERE strlen(resource_id) <> length(resource_id)
UNION ALL
SELECT 'ties', NULL, NULL
FROM per_id
GROUP BY lower(resource_id)
HAVING bool_or(varies) OR count(DISTINCT (subscription_name, resource_group, cluster)) > 1
UNION ALL
SELECT 'gaps', NULL, NULL
FROM eval_findings
HAVING min(ord) <> 1 OR max(ord) <> count(*) OR count(DISTINCT ord) <> count(*)
ORDER BY ALL;
