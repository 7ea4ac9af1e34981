-- Findings per scan, control and status, from scan index $offset on.
SELECT idx, control_id, status, count(*)
FROM _tobs
WHERE idx >= $offset
GROUP BY ALL
