-- Per control and status: the findings, the resources and the subscriptions they are on.
SELECT control_id, status, count(*) AS findings,
       count(DISTINCT resource_id) AS resources, count(DISTINCT subscription_id) AS subscriptions
FROM eval_findings
GROUP BY control_id, status
ORDER BY control_id, status;
