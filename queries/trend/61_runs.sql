-- 60_runs.sql over the masks of 11_masks.sql: the same rows of _tgone (the runs of consecutive failing scans per
-- finding), by bit arithmetic on each finding's masks instead of three window passes over its observations.
-- The significant scans of a finding: fail, ok (any status but fail and unknown), gone (a complete scan after its
-- first observation that lacks it). The others (unknown; absent from a partial scan) neither break nor extend a
-- run: the fail bits are spread through them (`filled`, a Kogge-Stone occluded fill), so that a run is a stretch
-- of consecutive set bits of `filled`, starting at a fail bit.
CREATE OR REPLACE TEMP TABLE _tgone AS
WITH scans AS (
    SELECT count(*)::INTEGER AS n, (1::BIGINT << count(*)::INTEGER) - 1 AS all_bits,
           coalesce(bit_or(CASE WHEN NOT partial THEN 1::BIGINT << idx END), 0) AS complete
    FROM _tsel
),
states AS (
    SELECT m.k, m.m_fail AS fail, m.m_present & ~m.m_fail & ~m.m_unknown AS ok,
           -- Complete scans without the finding, after its first observation (bits above the lowest present one).
           s.complete & ~m.m_present & ~((m.m_present & -m.m_present) * 2 - 1) AS gone,
           s.n, s.all_bits
    FROM _tmask m, scans s
),
step1 AS (
    SELECT *, fail | (_tshl(fail, 1, all_bits) & idle) AS g1, idle & _tshl(idle, 1, all_bits) AS p1
    FROM (SELECT *, all_bits & ~(fail | ok | gone) AS idle FROM states)
),
step2 AS (SELECT *, g1 | (_tshl(g1, 2, all_bits) & p1) AS g2, p1 & _tshl(p1, 2, all_bits) AS p2 FROM step1),
step3 AS (SELECT *, g2 | (_tshl(g2, 4, all_bits) & p2) AS g3, p2 & _tshl(p2, 4, all_bits) AS p3 FROM step2),
step4 AS (SELECT *, g3 | (_tshl(g3, 8, all_bits) & p3) AS g4, p3 & _tshl(p3, 8, all_bits) AS p4 FROM step3),
step5 AS (SELECT *, g4 | (_tshl(g4, 16, all_bits) & p4) AS g5, p4 & _tshl(p4, 16, all_bits) AS p5 FROM step4),
filled AS (SELECT k, fail, ok, gone, n, g5 | (_tshl(g5, 32, all_bits) & p5) AS filled FROM step5),
runs AS (
    -- One row per run, at the bit where it starts (a start bit of `filled`, found among the scans' positions); it
    -- ends at the next end bit of `filled` (the lowest end bit at or above its start, isolated by x & -x).
    SELECT f.k, f.fail, f.ok, f.gone, p.i AS s,
           f.ends & ~((1::BIGINT << p.i) - 1) AS later_ends
    FROM (
        SELECT *, filled & ~(filled << 1) AS starts, filled & ~(filled >> 1) AS ends FROM filled
    ) f
    JOIN range(62) p(i) ON p.i < f.n AND (f.starts >> p.i) & 1 = 1
),
bounded AS (
    -- e: the run's last bit; `fails`: the fail bits from s to e.
    SELECT k, ok, gone, s, bit_count((later_ends & -later_ends) - 1) AS e,
           fail & (((later_ends & -later_ends) << 1) - 1) & ~((1::BIGINT << s) - 1) AS fails
    FROM runs
),
highest AS (
    -- The run's last fail bit: every bit below the highest one set (h6), then counted.
    SELECT *, fails | (fails >> 1) AS h1, h1 | (h1 >> 2) AS h2, h2 | (h2 >> 4) AS h3, h3 | (h3 >> 8) AS h4,
           h4 | (h4 >> 16) AS h5, h5 | (h5 >> 32) AS h6
    FROM bounded
)
SELECT k, s::INTEGER AS first_idx, (bit_count(h6) - 1)::INTEGER AS last_idx, bit_count(fails)::BIGINT AS scans,
       CASE WHEN _tbit(ok, e + 1) THEN 'ok' WHEN _tbit(gone, e + 1) THEN 'gone' END AS ended_by,
       CASE WHEN _tbit(ok, e + 1) THEN e + 1 END::INTEGER AS ended_at
FROM highest;
