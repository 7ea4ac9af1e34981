-- Kubernetes patch latency of control planes (docs/period.md), as node-image latency: a release is the newest
-- patch of a minor in a region at some scan, counted from the first scan in which it was the newest. A control
-- plane on that minor with an older patch at that scan (or at its first scan after it) has the release pending;
-- it is adopted at the first later scan in which it runs that patch or a newer one, or a newer minor. Gone and
-- open as for node images. Reads period_scans, period_clusters and period_newest_patches.

CREATE OR REPLACE TEMP TABLE period_kubernetes_latency AS
WITH releases AS (
    SELECT location, minor, minor_num, newest_patch AS release, newest_patch_num AS release_num,
           min(idx) AS first_idx
    FROM period_newest_patches
    GROUP BY ALL
),
observed AS (
    SELECT idx, cluster_key, location, version, minor_num, patch_num
    FROM period_clusters
    WHERE minor_num IS NOT NULL AND patch_num IS NOT NULL
),
first_seen AS (
    SELECT r.location, r.minor, r.minor_num, r.release, r.release_num, r.first_idx, o.cluster_key,
           min(o.idx) AS start_idx
    FROM releases r
    JOIN observed o ON o.location = r.location AND o.minor_num = r.minor_num AND o.idx >= r.first_idx
    GROUP BY ALL
),
pending AS (
    SELECT f.*, o.version AS running
    FROM first_seen f
    JOIN observed o ON o.idx = f.start_idx AND o.cluster_key = f.cluster_key
    WHERE o.patch_num < f.release_num
),
closing AS (
    SELECT p.cluster_key, p.minor, p.release, min(o.idx) AS end_idx, arg_min(o.version, o.idx) AS closed_with
    FROM pending p
    JOIN observed o ON o.cluster_key = p.cluster_key AND o.idx > p.start_idx
    WHERE o.minor_num > p.minor_num OR (o.minor_num = p.minor_num AND o.patch_num >= p.release_num)
    GROUP BY ALL
),
last_seen AS (
    SELECT cluster_key, max(idx) AS last_idx FROM period_clusters GROUP BY ALL
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
        CASE WHEN c.end_idx IS NOT NULL THEN 'adopted'
             WHEN EXISTS (SELECT 1 FROM period_scans s WHERE s.idx > l.last_idx AND NOT s.partial) THEN 'gone'
             ELSE 'open' END AS outcome
    FROM pending p
    LEFT JOIN closing c USING (cluster_key, minor, release)
    JOIN last_seen l USING (cluster_key)
)
SELECT
    j.location,
    j.minor,
    j.release,
    j.cluster_key,
    j.running,
    j.closed_with,
    j.outcome,
    j.start_idx,
    j.end_idx,
    s_start.started_at                                             AS pending_since,
    CASE WHEN j.outcome = 'adopted' THEN s_end.started_at END      AS closed_at,
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
WHERE coalesce(j.end_idx, j.last_seen_idx) >= b.first_in_period OR j.outcome = 'open';
