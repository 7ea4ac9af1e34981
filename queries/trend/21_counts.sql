-- Findings per scan, control and status, from scan index $offset on (the mask form: _tcount of 11_masks.sql).
SELECT idx, control_id, status, n
FROM _tcount
WHERE idx >= $offset
