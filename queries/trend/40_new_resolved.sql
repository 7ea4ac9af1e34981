-- Failing now, not failing (or absent) in the previous scan.
CREATE OR REPLACE TEMP TABLE _tnew AS
SELECT c.idx, c.k, coalesce(p.status, 'absent') AS other, 'new_findings' AS list
FROM _tf c LEFT JOIN _tf p ON p.k = c.k AND p.idx = c.idx - 1
WHERE c.status = 'fail' AND c.idx >= greatest($offset, 1) AND coalesce(p.status, '') != 'fail'
UNION ALL
-- Failing in the previous scan, not now. Unknown, or absent from a partial scan, is not a fix: unverified.
SELECT p.idx + 1, p.k, coalesce(c.status, 'absent'),
       CASE WHEN c.status = 'unknown' OR (c.status IS NULL AND n.partial) THEN 'unverified_findings'
            ELSE 'resolved_findings' END
FROM _tf p JOIN _tsel n ON n.idx = p.idx + 1
LEFT JOIN _tf c ON c.k = p.k AND c.idx = p.idx + 1
WHERE p.status = 'fail' AND p.idx + 1 >= $offset AND coalesce(c.status, '') != 'fail';
