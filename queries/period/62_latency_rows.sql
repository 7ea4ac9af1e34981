-- Every pending release of the period, for the JSON and CSV outputs and the report's longest-open list.
SELECT kind, environment, grp, release, released, cluster_id, location, pool_name, running, closed_with, outcome,
       verdict, strftime(pending_since, '%Y-%m-%dT%H:%M:%SZ') AS pending_since,
       strftime(closed_at, '%Y-%m-%dT%H:%M:%SZ') AS closed_at, days, scan_intervals, deadline_days, since_first_scan
FROM period_latency
ORDER BY kind, environment, grp, cluster_key, pool_name NULLS FIRST, pending_since, release;
