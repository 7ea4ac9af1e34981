-- The findings of the evaluation being cached.
SELECT count(*) FROM eval_findings;
