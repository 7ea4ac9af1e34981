-- Per subscription and status: the number of findings.
SELECT subscription_id, status, count(*) AS findings
FROM eval_findings
GROUP BY subscription_id, status
ORDER BY subscription_id, status;
