-- The resources out of compliance longest (docs/period.md): runs of consecutive failing scans per control and
-- resource, over the scope's history up to the end of the period (a run that began before the period is dated
-- from its first failing scan), keeping the runs that reach into the period. As `auditor trend` counts open
-- failures: unknown is no evidence either way (it neither breaks nor extends a run); a resource absent from a
-- complete scan is gone, which ends its run; a partial scan that lacks it is, again, no evidence.
-- Days run from the first failing scan to the first scan it no longer failed in, or, when it did not end (still
-- failing, gone, or unverified), to the last scan it failed in (for one still failing: the period's last scan).

WITH failing AS (
    SELECT DISTINCT k FROM period_observations WHERE in_period AND status = 'fail'
),
scan_marks AS (
    SELECT idx, sum(CASE WHEN partial THEN 0 ELSE 1 END) OVER (ORDER BY idx) AS complete_upto FROM period_scans
),
present AS (
    SELECT o.k, o.idx, o.status, lead(o.idx) OVER (PARTITION BY o.k ORDER BY o.idx) AS next_idx
    FROM period_observations o SEMI JOIN failing f ON f.k = o.k
),
marked AS (
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
numbered AS (
    SELECT *, sum(CASE WHEN state = 'fail' AND coalesce(before, '') != 'fail' THEN 1 ELSE 0 END)
              OVER (PARTITION BY k ORDER BY pos) AS run
    FROM ordered
),
runs AS (
    SELECT k, run, min(idx) AS first_idx, max(idx) AS last_idx, count(*) AS scans,
           arg_max_null(after, pos) AS ended_by, arg_max_null(after_idx, pos) AS ended_at
    FROM numbered WHERE state = 'fail'
    GROUP BY k, run
),
bounds AS (
    SELECT min(idx) FILTER (WHERE in_period) AS first_in_period, max(idx) AS last_idx FROM period_scans
)
SELECT
    key.control_id,
    key.resource_id,
    nullif(key.node_pool, '')                                      AS node_pool,
    strftime(s_first.started_at, '%Y-%m-%dT%H:%M:%SZ')             AS since,
    strftime(coalesce(s_end.started_at, s_last.started_at), '%Y-%m-%dT%H:%M:%SZ') AS until,
    r.scans,
    round(epoch(coalesce(s_end.started_at, s_last.started_at) - s_first.started_at) / 86400.0, 1) AS days,
    CASE WHEN r.ended_by = 'ok' THEN 'remediated'
         WHEN r.ended_by = 'gone' THEN 'gone'
         WHEN r.last_idx = b.last_idx THEN 'failing'
         ELSE 'unverified' END                                     AS state,
    r.first_idx = 0                                                AS since_first_scan
FROM runs r
CROSS JOIN bounds b
JOIN finding_keys key ON key.key_id = r.k
JOIN period_scans s_first ON s_first.idx = r.first_idx
JOIN period_scans s_last ON s_last.idx = r.last_idx
LEFT JOIN period_scans s_end ON s_end.idx = r.ended_at AND r.ended_by = 'ok'
WHERE r.last_idx >= b.first_in_period
ORDER BY key.control_id, days DESC, r.scans DESC, key.resource_key, key.node_pool, since;
