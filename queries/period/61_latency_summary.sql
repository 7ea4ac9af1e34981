-- Patch latency per kind, environment and image family (node images) or minor (Kubernetes patches), with the
-- totals per environment (grp NULL) and per kind (environment and grp NULL). Percentiles are over adopted
-- releases (interpolated, as DuckDB's quantile_cont); open ones are counted, aged to the period's last scan.
SELECT
    kind,
    environment,
    grp,
    count(*)                                                       AS updates,
    count(*) FILTER (WHERE outcome = 'adopted')                    AS adopted,
    count(*) FILTER (WHERE verdict = 'on_time')                    AS on_time,
    count(*) FILTER (WHERE verdict = 'late')                       AS late,
    count(*) FILTER (WHERE verdict = 'overdue')                    AS overdue,
    count(*) FILTER (WHERE verdict = 'pending')                    AS pending,
    count(*) FILTER (WHERE verdict = 'not_judged')                 AS not_judged,
    count(*) FILTER (WHERE outcome = 'adopted' AND scan_intervals = 1) AS by_next_scan,
    round(quantile_cont(days, 0.5) FILTER (WHERE outcome = 'adopted'), 1) AS p50_days,
    round(quantile_cont(days, 0.9) FILTER (WHERE outcome = 'adopted'), 1) AS p90_days,
    max(days) FILTER (WHERE outcome = 'adopted')                   AS max_days,
    max(days) FILTER (WHERE outcome = 'open')                      AS oldest_open_days,
    min(deadline_days)                                             AS deadline_min,
    max(deadline_days)                                             AS deadline_max
FROM period_latency
GROUP BY GROUPING SETS ((kind, environment, grp), (kind, environment), (kind))
ORDER BY kind, environment NULLS LAST, grp NULLS LAST;
