-- The statuses 41_new_resolved.sql left NULL (pass, warn, waived, not applicable): read from the cache for those
-- findings only, in the scan the list compares with (the previous one for a new finding, else its own).
UPDATE _tnew SET other = f.status
FROM _tsel t, findings f
WHERE _tnew.other IS NULL
  AND t.idx = CASE WHEN _tnew.list = 'new_findings' THEN _tnew.idx - 1 ELSE _tnew.idx END
  AND f.evaluator = $evaluator AND f.scan_id = t.scan_id AND f.key_id = _tnew.k;
