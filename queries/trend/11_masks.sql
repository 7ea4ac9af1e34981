-- The form of 10_select.sql for at most 62 scans (a bit per scan in a BIGINT): the scans (_tsel), the findings
-- per scan, control and status (_tcount), and for each finding that failed in any scan one bit mask per status
-- over the scans (_tmask: bit idx set when the finding had that status in scan idx; `n` counts its rows, more than
-- its bits when it appears twice in one scan, which sends the trend to the general form). $scans: list of
-- {idx, scan_id, partial}.
-- Bit i of a mask; a mask shifted left by s within the scans' bits (never past bit 62); a finding's status in
-- scan i from its masks ('absent' when it is not in that scan).
CREATE OR REPLACE TEMP MACRO _tbit(mask, i) AS ((mask >> i) & 1) = 1;
CREATE OR REPLACE TEMP MACRO _tshl(x, s, all_bits) AS (x & (all_bits >> s)) << s;
CREATE OR REPLACE TEMP MACRO _tstatus(fail, pass, warn, unknown, waived, not_applicable, i) AS
    CASE WHEN _tbit(fail, i) THEN 'fail' WHEN _tbit(pass, i) THEN 'pass' WHEN _tbit(warn, i) THEN 'warn'
         WHEN _tbit(unknown, i) THEN 'unknown' WHEN _tbit(waived, i) THEN 'waived'
         WHEN _tbit(not_applicable, i) THEN 'not_applicable' ELSE 'absent' END;

CREATE OR REPLACE TEMP TABLE _tsel AS
SELECT s.idx::INTEGER AS idx, s.scan_id::VARCHAR AS scan_id, s.partial::BOOLEAN AS partial
FROM (SELECT unnest($scans) AS s);

CREATE OR REPLACE TEMP TABLE _tcount AS
SELECT t.idx, f.control_id, f.status, count(*) AS n
FROM findings f JOIN _tsel t USING (scan_id)
WHERE f.evaluator = $evaluator
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE _tmask AS
SELECT f.key_id AS k,
       bit_or(CASE WHEN f.status = 'fail' THEN 1::BIGINT << t.idx END) AS m_fail,
       coalesce(bit_or(CASE WHEN f.status = 'pass' THEN 1::BIGINT << t.idx END), 0) AS m_pass,
       coalesce(bit_or(CASE WHEN f.status = 'warn' THEN 1::BIGINT << t.idx END), 0) AS m_warn,
       coalesce(bit_or(CASE WHEN f.status = 'unknown' THEN 1::BIGINT << t.idx END), 0) AS m_unknown,
       coalesce(bit_or(CASE WHEN f.status = 'waived' THEN 1::BIGINT << t.idx END), 0) AS m_waived,
       coalesce(bit_or(CASE WHEN f.status = 'not_applicable' THEN 1::BIGINT << t.idx END), 0) AS m_not_applicable,
       bit_or(1::BIGINT << t.idx) AS m_present,
       count(*) AS n
FROM findings f JOIN _tsel t USING (scan_id)
WHERE f.evaluator = $evaluator
GROUP BY f.key_id
HAVING m_fail IS NOT NULL;

-- Whether the masks hold every observation: no finding twice in one scan.
SELECT count(*) FROM _tmask WHERE n <> bit_count(m_present);
