-- Node-image patch latency (docs/period.md). A release is a node image that was the newest of its region and
-- image family in some scan; it counts from the first scan in which it was the newest (first_idx). For every
-- node pool that ran that family in that region, an older image at that scan (or at the pool's first scan after
-- it, for a pool created later) makes the release pending for the pool; it is adopted at the first later scan
-- in which the pool runs it or a newer image of the family, or an image of another family released no earlier
-- (a Kubernetes upgrade that moved the pool onto another family). A pool that moves to another family with an
-- older image has left the family (not judged); one that disappears from a later complete scan is gone (not
-- judged); one still behind at the last scan is open, aged to that scan.
-- Days run between the two scans' start times: latency is measured at the resolution of the scans.
-- Reads period_scans, period_clusters, period_pools, period_latest_images and period_deadlines
-- (cluster_key, deadline_days: the policy's patch_deadline_days in effect for the cluster).

CREATE OR REPLACE TEMP TABLE period_image_latency AS
WITH releases AS (
    SELECT location, image_family, version AS release, node_image_date(version) AS release_date,
           min(idx) AS first_idx
    FROM period_latest_images
    GROUP BY ALL
),
observed AS (
    SELECT p.idx, p.cluster_key, p.pool_name, c.location, p.image_family, p.image_version, p.image_date
    FROM period_pools p
    JOIN period_clusters c USING (idx, cluster_key)
    WHERE p.image_family IS NOT NULL AND p.image_date IS NOT NULL
),
first_seen AS (
    SELECT r.location, r.image_family, r.release, r.release_date, r.first_idx, o.cluster_key, o.pool_name,
           min(o.idx) AS start_idx
    FROM releases r
    JOIN observed o ON o.location = r.location AND o.image_family = r.image_family AND o.idx >= r.first_idx
    GROUP BY ALL
),
pending AS (
    SELECT f.*, o.image_version AS running
    FROM first_seen f
    JOIN observed o ON o.idx = f.start_idx AND o.cluster_key = f.cluster_key AND o.pool_name = f.pool_name
    WHERE o.image_date < f.release_date OR (o.image_date = f.release_date AND o.image_version < f.release)
),
closing AS (
    SELECT p.cluster_key, p.pool_name, p.image_family, p.release,
           min(o.idx) AS end_idx,
           arg_min(CASE WHEN o.image_family = p.image_family OR o.image_date >= p.release_date THEN 'adopted'
                        ELSE 'left_family' END, o.idx) AS closed_as,
           arg_min(o.image_version, o.idx) AS closed_with
    FROM pending p
    JOIN observed o ON o.cluster_key = p.cluster_key AND o.pool_name = p.pool_name AND o.idx > p.start_idx
    WHERE o.image_family != p.image_family
       OR o.image_date > p.release_date
       OR (o.image_date = p.release_date AND o.image_version >= p.release)
    GROUP BY ALL
),
last_seen AS (
    SELECT cluster_key, pool_name, max(idx) AS last_idx FROM period_pools GROUP BY ALL
),
bounds AS (
    SELECT min(idx) FILTER (WHERE in_period) AS first_in_period, max(idx) AS last_idx FROM period_scans
),
judged AS (
    SELECT
        p.*,
        c.end_idx,
        c.closed_with,
        l.last_idx AS last_seen_idx,
        CASE WHEN c.end_idx IS NOT NULL THEN c.closed_as
             WHEN EXISTS (SELECT 1 FROM period_scans s WHERE s.idx > l.last_idx AND NOT s.partial) THEN 'gone'
             ELSE 'open' END AS outcome
    FROM pending p
    LEFT JOIN closing c USING (cluster_key, pool_name, image_family, release)
    JOIN last_seen l USING (cluster_key, pool_name)
)
SELECT
    j.location,
    j.image_family,
    j.release,
    j.release_date,
    j.cluster_key,
    j.pool_name,
    j.running,
    j.closed_with,
    j.outcome,
    j.start_idx,
    j.end_idx,
    s_start.started_at                                             AS pending_since,
    CASE WHEN j.outcome IN ('adopted', 'left_family') THEN s_end.started_at END AS closed_at,
    round(epoch(CASE j.outcome WHEN 'open' THEN s_last.started_at
                               WHEN 'gone' THEN s_seen.started_at
                               ELSE s_end.started_at END - s_start.started_at) / 86400.0, 1) AS days,
    -- The same in scans: 1 is "adopted by the next scan", whatever the scans' spacing.
    CASE j.outcome WHEN 'open' THEN b.last_idx WHEN 'gone' THEN j.last_seen_idx ELSE j.end_idx END
        - j.start_idx                                              AS scan_intervals,
    j.first_idx = 0                                                AS since_first_scan
FROM judged j
CROSS JOIN bounds b
JOIN period_scans s_start ON s_start.idx = j.start_idx
JOIN period_scans s_last ON s_last.idx = b.last_idx
JOIN period_scans s_seen ON s_seen.idx = j.last_seen_idx
LEFT JOIN period_scans s_end ON s_end.idx = j.end_idx
-- Pending at some scan of the period: closed in it, or still open, or last seen in it.
WHERE coalesce(j.end_idx, j.last_seen_idx) >= b.first_in_period OR j.outcome = 'open';
