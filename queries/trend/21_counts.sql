-- Findings per scan, control and status, from scan index $offset on, for the mask form: read from the cache itself
-- (no working table of 11_masks.sql), so that it runs on a cursor of its own beside the rest of the trend.
-- $scans: list of {idx, scan_id, partial}, as 11_masks.sql.
SELECT s.idx::INTEGER AS idx, f.control_id, f.status, count(*)
FROM findings f JOIN (SELECT unnest($scans, recursive := true)) s USING (scan_id)
WHERE f.evaluator = $evaluator AND s.idx >= $offset
GROUP BY ALL
