-- 40_new_resolved.sql over the masks of 11_masks.sql, as a view (_tchanges) of the rows 40 puts in _tnew from any
-- scan on: its readers keep those from scan $offset on (45_sizes.sql through 42_other_status.sql with the lists,
-- 46_change_sizes.sql without: then nothing is materialised). Scan idx of a finding: new when it fails there and
-- did not fail in scan idx - 1 (idx >= 1); resolved or unverified when it failed in scan idx - 1 and does not in
-- scan idx. `other` is its status in the other scan, or 'absent'; NULL for a status the masks do not hold
-- (42_other_status.sql fills it in when the lists are built).
CREATE OR REPLACE TEMP VIEW _tchanges AS
WITH bounds AS (SELECT count(*)::INTEGER AS scans FROM _tsel),
changes AS (
    -- Per finding: the scans where it starts failing, and those where it stops.
    SELECT m.*,
           m.m_fail & ~((m.m_fail & ((1::BIGINT << (b.scans - 1)) - 1)) << 1)
               & ~(1::BIGINT) AS starts,
           ((m.m_fail & ((1::BIGINT << (b.scans - 1)) - 1)) << 1) & ~m.m_fail AS stops
    FROM _tmask m, bounds b
),
changed AS (
    -- One row per scan where a finding starts or stops failing (a bit is never both): its bits found among the
    -- scans' positions by a join, not a list per finding.
    SELECT c.k, c.m_fail, c.m_unknown, c.m_present, p.i::INTEGER AS idx, _tbit(c.starts, p.i) AS started
    FROM changes c JOIN range(62) p(i) ON ((c.starts | c.stops) >> p.i) & 1 = 1
    WHERE c.starts | c.stops <> 0
)
SELECT c.idx, c.k, _tstatus(c.m_fail, c.m_unknown, c.m_present, c.idx - 1) AS other, 'new_findings' AS list
FROM changed c WHERE c.started
UNION ALL
SELECT c.idx, c.k, _tstatus(c.m_fail, c.m_unknown, c.m_present, c.idx),
       CASE WHEN _tbit(c.m_unknown, c.idx) OR (NOT _tbit(c.m_present, c.idx) AND n.partial) THEN 'unverified_findings'
            ELSE 'resolved_findings' END
FROM changed c JOIN _tsel n ON n.idx = c.idx
WHERE NOT c.started;
