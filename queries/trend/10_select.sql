-- The scans of the trend (_tsel: index, id, partial); every cached finding of them read once (_tobs: scan index,
-- key, control, status), from which the findings that failed in any scan (_tkeys) and every observation of those
-- (_tf: scan index, key, status) derive. $scans: list of {idx, scan_id, partial}.
CREATE OR REPLACE TEMP TABLE _tsel AS
SELECT s.idx::INTEGER AS idx, s.scan_id::VARCHAR AS scan_id, s.partial::BOOLEAN AS partial
FROM (SELECT unnest($scans) AS s);

CREATE OR REPLACE TEMP TABLE _tobs AS
SELECT t.idx, f.key_id AS k, f.control_id, f.status
FROM findings f JOIN _tsel t USING (scan_id)
WHERE f.evaluator = $evaluator;

CREATE OR REPLACE TEMP TABLE _tkeys AS
SELECT DISTINCT k FROM _tobs WHERE status = 'fail';

CREATE OR REPLACE TEMP TABLE _tf AS
SELECT o.idx, o.k, o.status FROM _tobs o SEMI JOIN _tkeys x ON x.k = o.k;
