-- Patch latency judged against the deadline (docs/period.md): every pending release of both kinds, with the
-- cluster's environment at the scan it became pending and the deadline in effect for the cluster
-- (period_deadlines: the policy's patch_deadline_days after its scopes). Verdicts: on_time (adopted within the
-- deadline), late (adopted after it), overdue (still open past it), pending (open, within it), not_judged (the
-- pool or cluster went away, or the pool left the image family, before adopting).

CREATE OR REPLACE TEMP TABLE period_latency AS
WITH pending AS (
    SELECT 'node_image' AS kind, image_family AS grp, release, CAST(release_date AS VARCHAR) AS released,
           cluster_key, pool_name, running, closed_with, outcome, start_idx, pending_since, closed_at, days,
           scan_intervals, since_first_scan
    FROM period_image_latency
    UNION ALL
    SELECT 'kubernetes_patch', minor, release, NULL, cluster_key, NULL, running, closed_with, outcome, start_idx,
           pending_since, closed_at, days, scan_intervals, since_first_scan
    FROM period_kubernetes_latency
)
SELECT
    p.*,
    c.environment,
    c.cluster_id,
    c.name          AS cluster,
    c.resource_group,
    c.subscription_id,
    c.location,
    d.deadline_days,
    CASE WHEN p.outcome = 'adopted' AND p.days <= d.deadline_days THEN 'on_time'
         WHEN p.outcome = 'adopted' THEN 'late'
         WHEN p.outcome = 'open' AND p.days > d.deadline_days THEN 'overdue'
         WHEN p.outcome = 'open' THEN 'pending'
         ELSE 'not_judged' END AS verdict
FROM pending p
JOIN period_clusters c ON c.idx = p.start_idx AND c.cluster_key = p.cluster_key
JOIN period_deadlines d ON d.cluster_key = p.cluster_key;
