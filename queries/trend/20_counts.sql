-- Findings per scan, control and status, from scan index $offset on.
SELECT t.idx, f.control_id, f.status, count(*)
FROM findings f JOIN _tsel t USING (scan_id)
WHERE f.evaluator = $evaluator AND t.idx >= $offset
GROUP BY ALL
