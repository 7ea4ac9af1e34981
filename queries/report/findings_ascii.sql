-- The findings whose subscription name, resource group, cluster or resource id is not plain ASCII: there the
-- report's order and its aggregates (which lower-case them) might differ between DuckDB's lower() and Python's
-- str.lower().
SELECT count(*) FROM eval_findings
WHERE strlen(subscription_name) <> length(subscription_name) OR strlen(resource_group) <> length(resource_group)
   OR strlen(cluster) <> length(cluster) OR strlen(resource_id) <> length(resource_id);
