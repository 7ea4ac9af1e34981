-- The form of 10_select.sql for at most 62 scans (a bit per scan in a BIGINT): the scans (_tsel), and for each
-- finding that failed in any scan its bit masks over the scans (_tmask: bit idx set when the finding failed, was
-- unknown, was present in scan idx; `n` counts its rows, more than its bits when it appears twice in one scan, which
-- sends the trend to the general form). The counts per scan, control and status are 21_counts.sql's. $scans: list
-- of {idx, scan_id, partial}.
-- Bit i of a mask; a finding's status in scan i from its masks ('absent' when it is not in that scan).
CREATE OR REPLACE TEMP MACRO _tbit(mask, i) AS ((mask >> i) & 1) = 1;
-- A finding's status in scan i as far as its masks tell: fail, unknown, absent, or NULL for another status
-- (42_other_status.sql reads which, for the lists only).
CREATE OR REPLACE TEMP MACRO _tstatus(fail, unknown, present, i) AS
    CASE WHEN _tbit(fail, i) THEN 'fail' WHEN _tbit(unknown, i) THEN 'unknown'
         WHEN _tbit(present, i) THEN NULL ELSE 'absent' END;

-- The masks group the cache by key_id, a dense integer: a perfect hash table (an array indexed by key_id) groups
-- it about twice as fast as a hash table. DuckDB uses one only up to 2^12 groups by default; this cursor allows
-- 2^20 (key ids up to about a million, a few tens of MB per thread; above it DuckDB falls back to hashing).
SET perfect_ht_threshold = 20;

CREATE OR REPLACE TEMP TABLE _tsel AS
SELECT s.idx::INTEGER AS idx, s.scan_id::VARCHAR AS scan_id, s.partial::BOOLEAN AS partial,
       1::BIGINT << s.idx::INTEGER AS bit  -- the scan's bit, shifted once here rather than per finding
FROM (SELECT unnest($scans) AS s);

CREATE OR REPLACE TEMP TABLE _tmask AS
SELECT f.key_id AS k,
       bit_or(t.bit) FILTER (WHERE f.status = 'fail') AS m_fail,
       coalesce(bit_or(t.bit) FILTER (WHERE f.status = 'unknown'), 0) AS m_unknown,
       bit_or(t.bit) AS m_present,
       count(*) AS n
FROM findings f JOIN _tsel t USING (scan_id)
WHERE f.evaluator = $evaluator
GROUP BY f.key_id
HAVING m_fail IS NOT NULL;

-- Whether the masks hold every observation: no finding twice in one scan.
SELECT count(*) FROM _tmask WHERE n <> bit_count(m_present);
