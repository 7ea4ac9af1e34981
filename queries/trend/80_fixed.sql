-- Runs that ended in a pass: control, first failing scan, the scan it passed in, and how many runs did so.
SELECT k.control_id, r.first_idx, r.ended_at, count(*)
FROM _tgone r JOIN finding_keys k ON k.key_id = r.k
WHERE r.ended_by = 'ok'
GROUP BY ALL
ORDER BY ALL
