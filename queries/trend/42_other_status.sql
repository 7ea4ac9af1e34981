-- The rows of _tchanges (41_new_resolved.sql) from scan $offset on, in _tnew as 40_new_resolved.sql has them, with
-- the statuses 41 left NULL (pass, warn, waived, not applicable) read from the cache for those findings only, in the
-- scan the list compares with (the previous one for a new finding, else its own). One scan of the cache probing a
-- hash of the few findings wanted.
CREATE OR REPLACE TEMP TABLE _tnew AS SELECT * FROM _tchanges WHERE idx >= $offset;

CREATE OR REPLACE TEMP TABLE _tnew AS
WITH wanted AS (
    SELECT n.idx, n.k, n.list, t.scan_id
    FROM _tnew n JOIN _tsel t ON t.idx = CASE WHEN n.list = 'new_findings' THEN n.idx - 1 ELSE n.idx END
    WHERE n.other IS NULL
),
found AS (
    SELECT w.idx, w.k, w.list, f.status
    FROM wanted w JOIN findings f ON f.scan_id = w.scan_id AND f.key_id = w.k
    WHERE f.evaluator = $evaluator
)
SELECT n.idx, n.k, coalesce(n.other, x.status) AS other, n.list
FROM _tnew n LEFT JOIN found x USING (idx, k, list);
