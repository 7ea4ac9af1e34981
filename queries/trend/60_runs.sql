-- Runs of consecutive failing scans per finding (_tgone). Each finding's observations are fail or ok; unknown is no
-- evidence either way (it neither breaks nor extends a run). Where a finding is missing from one or more complete
-- scans between two observations (or after the last), its resource was gone: a 'gone' mark goes there. A scan that
-- is partial and lacks the finding is, again, no evidence either way.
CREATE OR REPLACE TEMP TABLE _tgone AS
WITH scan_marks AS (
    SELECT idx, sum(CASE WHEN partial THEN 0 ELSE 1 END) OVER (ORDER BY idx) AS complete_upto FROM _tsel
),
present AS (
    SELECT f.k, f.idx, f.status, lead(f.idx) OVER (PARTITION BY f.k ORDER BY f.idx) AS next_idx FROM _tf f
),
marked AS (
    -- Complete scans strictly between this observation and the next (or after the last): C[next-1] - C[idx].
    SELECT p.k, p.idx, p.status,
           coalesce(nx.complete_upto, (SELECT max(complete_upto) FROM scan_marks)) - cur.complete_upto > 0
               AS gone_after
    FROM present p
    JOIN scan_marks cur ON cur.idx = p.idx
    LEFT JOIN scan_marks nx ON nx.idx = p.next_idx - 1
),
seq AS (
    SELECT k, CAST(idx AS DOUBLE) AS pos, idx, CASE WHEN status = 'fail' THEN 'fail' ELSE 'ok' END AS state
    FROM marked WHERE status != 'unknown'
    UNION ALL
    SELECT k, idx + 0.5, NULL, 'gone' FROM marked WHERE gone_after
),
ordered AS (
    SELECT *, lag(state) OVER w AS before, lead(state) OVER w AS after, lead(idx) OVER w AS after_idx
    FROM seq WINDOW w AS (PARTITION BY k ORDER BY pos)
),
runs AS (
    SELECT *, sum(CASE WHEN state = 'fail' AND coalesce(before, '') != 'fail' THEN 1 ELSE 0 END)
              OVER (PARTITION BY k ORDER BY pos) AS run
    FROM ordered
)
SELECT k, min(idx) AS first_idx, max(idx) AS last_idx, count(*) AS scans,
       arg_max_null(after, pos) AS ended_by, arg_max_null(after_idx, pos) AS ended_at
FROM runs WHERE state = 'fail'
GROUP BY k, run
