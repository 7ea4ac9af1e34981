-- The scans of the trend (_tsel: index, id, partial), the findings that failed in any of them (_tkeys), and every
-- observation of those (_tf: scan index, key, status). $scans: list of {idx, scan_id, partial}.
CREATE OR REPLACE TEMP TABLE _tsel AS
SELECT s.idx::INTEGER AS idx, s.scan_id::VARCHAR AS scan_id, s.partial::BOOLEAN AS partial
FROM (SELECT unnest($scans) AS s);

CREATE OR REPLACE TEMP TABLE _tkeys AS
SELECT DISTINCT f.key_id AS k
FROM findings f JOIN _tsel t USING (scan_id)
WHERE f.evaluator = $evaluator AND f.status = 'fail';

CREATE OR REPLACE TEMP TABLE _tf AS
SELECT t.idx, f.key_id AS k, f.status
FROM findings f JOIN _tsel t USING (scan_id) SEMI JOIN _tkeys x ON x.k = f.key_id
WHERE f.evaluator = $evaluator;
