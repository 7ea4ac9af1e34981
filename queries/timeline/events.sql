-- The ledger's events as of the model's scan (history_events, auditor/ledger.py), oldest first per cluster, each with
-- its campaign (queries/history/campaigns.sql) and the cluster's last name. $cluster (a name or an ARM id, any
-- case) keeps one cluster and $cluster_ids (lower-case ARM ids) a set of them; NULL keeps every cluster.
WITH names AS (
    SELECT cluster_id, arg_max(name, (taken_at, name)) AS name FROM history_snapshots GROUP BY cluster_id
),
step_campaign AS (
    SELECT cluster_id, kind, target, to_version, campaign_key
    FROM upgrade_campaign_members WHERE role = 'step'
),
labelled AS (
    SELECT
        e.*,
        coalesce(s.campaign_key, (
            SELECT arg_min(c.campaign_key,
                           (greatest(epoch(c.first_at) - epoch(e.window_end),
                                     epoch(e.window_start) - epoch(c.last_at), 0), c.campaign_key))
            FROM upgrade_campaigns c
            WHERE c.cluster_id = e.cluster_id AND c.kind = e.kind
              AND e.window_end >= c.first_at - to_hours(w.window_hours)
              AND e.window_start <= c.last_at + to_hours(w.window_hours))) AS campaign_key
    FROM history_events e
    LEFT JOIN history_window w USING (cluster_id)
    LEFT JOIN step_campaign s
      ON e.phase = 'reached' AND s.cluster_id = e.cluster_id AND s.kind = e.kind AND s.target = e.target
     AND s.to_version = e.to_version
)
SELECT
    l.cluster_id, coalesce(n.name, regexp_extract(l.cluster_id, '([^/]+)$', 1)) AS cluster, l.target,
    l.pool_mode, l.kind, l.phase, l.from_version, l.to_version, l.event_time, l.window_start, l.window_end,
    l.source, l.field,
    l.mapping, l.note, l.evidence_ref, l.first_seen_scan_id, l.seen_count, c.label AS campaign
FROM labelled l
LEFT JOIN names n USING (cluster_id)
LEFT JOIN upgrade_campaigns c USING (campaign_key)
WHERE ($cluster::VARCHAR IS NULL
       OR lower(coalesce(n.name, '')) = lower($cluster::VARCHAR) OR l.cluster_id = lower($cluster::VARCHAR))
  AND ($cluster_ids::VARCHAR[] IS NULL OR l.cluster_id IN (SELECT unnest($cluster_ids::VARCHAR[])))
ORDER BY cluster, l.window_end, l.window_start,
         CASE l.target WHEN 'control_plane' THEN 0 WHEN 'cluster' THEN 1 ELSE 2 END, l.target, l.kind, l.phase,
         l.source, l.evidence_ref, l.event_key
