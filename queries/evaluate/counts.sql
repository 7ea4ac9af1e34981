SELECT status, count(*) FROM eval_findings GROUP BY status ORDER BY status;
