-- An evaluation's findings per control and status (Store.evaluate(...).counts()).
SELECT control_id, status, count(*) FROM eval_findings GROUP BY control_id, status ORDER BY control_id, status;
