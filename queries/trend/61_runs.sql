-- 60_runs.sql over the masks of 11_masks.sql: the same rows of _tgone (the runs of consecutive failing scans per
-- finding), by bit arithmetic on each finding's masks instead of three window passes over its observations.
-- The significant scans of a finding: fail, ok (any status but fail and unknown), gone (a complete scan after its
-- first observation that lacks it). The others (idle: unknown; absent from a partial scan) neither break nor extend
-- a run: the fail bits are spread upwards through them (`filled`), so that a run is a stretch of consecutive set
-- bits of `filled`, starting at a fail bit.
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
blocks AS (
    -- `open`: the scans a run may span (fail or idle), in blocks of consecutive bits; `idle`; `first`: each block's
    -- lowest bit.
    SELECT *, open & ~fail AS idle, open & ~(open << 1) AS first
    FROM (SELECT *, all_bits & ~(ok | gone) AS open FROM states)
),
filled AS (
    -- Adding a block's lowest bit to its idle bits carries through the idle bits below its first fail (clearing
    -- them) and stops at that fail: the idle bits the sum cleared are those no fail precedes in their block, the
    -- only bits of `open` not filled (a block without a fail is cleared whole; its carry lands outside `open`).
    SELECT k, fail, ok, gone, n, open & ~(idle & ~(idle + first)) AS filled FROM blocks
),
runs AS (
    -- One row per run, at the bit where it starts (a start bit of `filled`, found among the scans' positions); it
    -- ends at the next end bit of `filled` (the lowest end bit at or above its start, isolated by x & -x).
    SELECT f.k, f.fail, f.ok, f.gone, p.i AS s,
           f.ends & ~((1::BIGINT << p.i) - 1) AS later_ends
    FROM (
        SELECT *, filled & ~(filled << 1) AS starts, filled & ~(filled >> 1) AS ends FROM filled
    ) f
    JOIN range(62) p(i) ON (f.starts >> p.i) & 1 = 1
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
