-- Per subscription: its clusters and failing clusters (Fleet Manager resources are not clusters). Grouped by
-- resource first: ten thousand resources rather than every finding go through the distinct counts.
SELECT subscription_id,
       count(*) FILTER (WHERE NOT fleet) AS clusters,
       count(*) FILTER (WHERE NOT fleet AND failing) AS failing_clusters
FROM (
    SELECT subscription_id, resource_id, bool_or(status = 'fail') AS failing,
           contains(lower(resource_id), '/providers/microsoft.containerservice/fleets/') AS fleet
    FROM eval_findings
    GROUP BY subscription_id, resource_id
)
GROUP BY subscription_id
ORDER BY subscription_id;
