-- The severities of the failing findings.
SELECT DISTINCT severity FROM eval_findings WHERE status = 'fail' ORDER BY severity;
