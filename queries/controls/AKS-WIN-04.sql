-- AKS-WIN-04: windows are staggered across a subscription. Microsoft advises against giving many clusters of one
-- subscription the same maintenance window (ARM throttling fails their upgrades; one bad release hits them all).
-- For each kind of window (auto-upgrade, node-os) the peak number of the subscription's clusters whose windows are
-- open at the same instant over the model's horizon (maintenance_occurrences, auditor/model/windows.py) must not
-- exceed [window_overlap_max_clusters] (the strictest value among the subscription's clusters). One finding per
-- subscription (resource_id '/subscriptions/<id>').
WITH subs AS (
    SELECT c.subscription_id,
           count(*) AS clusters,
           min(cp.window_overlap_max_clusters) AS max_clusters,
           -- Clusters whose windows could not be read: they might add to any peak.
           count(*) FILTER (WHERE c.cluster_id NOT IN (SELECT cluster_id FROM maintenance_collected)
                              OR c.cluster_id IN (SELECT cluster_id FROM maintenance_window_problems)) AS unread
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    -- A cluster row without a subscription (malformed evidence) belongs to no subscription to judge; its own
    -- controls report it unknown.
    WHERE coalesce(c.subscription_id, '') <> ''
    GROUP BY c.subscription_id
),
kinds AS (
    SELECT * FROM (VALUES ('auto-upgrade', 'aksManagedAutoUpgradeSchedule'),
                          ('node-os', 'aksManagedNodeOSUpgradeSchedule')) AS k(kind, config_name)
),
occ AS (
    SELECT c.subscription_id, o.kind, o.cluster_id, c.name,
           greatest(o.starts_at, s.started_at) AS starts_at, o.ends_at
    FROM maintenance_occurrences o
    JOIN clusters c USING (cluster_id)
    CROSS JOIN scan s
    WHERE o.in_horizon
),
events AS (
    -- Net change of open windows at each instant: windows that end and begin at one instant do not overlap
    -- (ends are exclusive), so summing them first gives exactly the clusters open from that instant on.
    SELECT subscription_id, kind, moment, sum(delta) AS delta
    FROM (
        SELECT subscription_id, kind, starts_at AS moment, 1 AS delta FROM occ
        UNION ALL
        SELECT subscription_id, kind, ends_at AS moment, -1 AS delta FROM occ
    )
    GROUP BY ALL
),
running AS (
    SELECT subscription_id, kind, moment,
           sum(delta) OVER (PARTITION BY subscription_id, kind ORDER BY moment ROWS UNBOUNDED PRECEDING) AS open_now
    FROM events
),
peaks AS (
    SELECT subscription_id, kind, max(open_now) AS peak FROM running GROUP BY subscription_id, kind
),
peak_at AS (
    SELECT r.subscription_id, r.kind, p.peak, min(r.moment) AS moment
    FROM running r
    JOIN peaks p ON p.subscription_id = r.subscription_id AND p.kind = r.kind AND r.open_now = p.peak
    GROUP BY ALL
),
at_peak AS (
    SELECT a.subscription_id, a.kind, a.peak, a.moment,
           list(DISTINCT '''' || o.name || '''' ORDER BY '''' || o.name || '''') AS names
    FROM peak_at a
    JOIN occ o ON o.subscription_id = a.subscription_id AND o.kind = a.kind AND o.starts_at <= a.moment AND o.ends_at > a.moment
    GROUP BY ALL
),
windowed AS (
    SELECT subscription_id, kind, count(DISTINCT cluster_id) AS clusters FROM occ GROUP BY ALL
),
per_kind AS (
    SELECT s.subscription_id, s.clusters, s.max_clusters, s.unread, k.kind, k.config_name,
           coalesce(w.clusters, 0) AS windowed, coalesce(a.peak, 0) AS peak, a.moment, a.names,
           coalesce(a.peak, 0) > s.max_clusters AS crowded
    FROM subs s
    CROSS JOIN kinds k
    LEFT JOIN windowed w ON w.subscription_id = s.subscription_id AND w.kind = k.kind
    LEFT JOIN at_peak a ON a.subscription_id = s.subscription_id AND a.kind = k.kind
),
described AS (
    SELECT *,
        CASE WHEN peak = 0 THEN 'no ' || kind || ' window'
             ELSE peak || ' cluster(s) in one ' || kind || ' window at ' || strftime(moment, '%Y-%m-%d %H:%M') || ' UTC'
                  || CASE WHEN crowded THEN ': '
                               || array_to_string(names[1:12], ', ')
                               || CASE WHEN len(names) > 12 THEN ' and ' || (len(names) - 12) || ' more' ELSE '' END
                          ELSE '' END
        END AS text
    FROM per_kind
),
decided AS (
    SELECT subscription_id, min(clusters) AS clusters, min(max_clusters) AS max_clusters,
           min(unread) AS unread,
           bool_or(crowded) AS crowded,
           max(peak) AS peak,
           sum(windowed) AS windowed,
           max(peak + unread) AS possible,
           string_agg(text, '; ' ORDER BY kind) AS text,
           string_agg(text, '; ' ORDER BY kind) FILTER (WHERE crowded) AS crowded_text,
           string_agg(kind || ' peak=' || peak || coalesce('@' || strftime(moment, '%Y-%m-%dT%H:%MZ'), ''), '; ' ORDER BY kind)
               AS peaks,
           arg_max(config_name, (peak, kind)) AS worst_config
    FROM described
    GROUP BY subscription_id
),
judged AS (
    SELECT *,
        CASE
            WHEN crowded THEN 'warn'
            WHEN possible > max_clusters THEN 'unknown'
            WHEN windowed = 0 THEN 'not_applicable'
            ELSE 'pass'
        END AS status
    FROM decided
)
SELECT
    '/subscriptions/' || subscription_id AS resource_id,
    NULL AS node_pool,
    status,
    CASE status
        WHEN 'warn' THEN
            crowded_text || ' (limit ' || max_clusters || ' of the subscription''s ' || clusters
            || ' clusters): ARM throttling can fail their upgrades and one bad release reaches them all at once; '
            || 'stagger the windows'
        WHEN 'unknown' THEN
            'the maintenance windows of ' || unread || ' of ' || clusters || ' clusters could not be read, and with them '
            || 'the peak could exceed ' || max_clusters || ': ' || text
        WHEN 'not_applicable' THEN
            'none of the subscription''s ' || clusters
            || ' clusters has an auto-upgrade or node-os maintenance window (see AKS-WIN-01, AKS-WIN-02)'
        ELSE
            'windows are staggered over the next ' || (SELECT days FROM maintenance_horizon) || ' days: at most ' || peak || ' of ' || clusters || ' clusters share a window (limit '
            || max_clusters || '): ' || text
    END AS message,
    'clusters=' || clusters || '; ' || peaks || '; unread=' || unread || '; limit=' || max_clusters
        || '; horizon=' || (SELECT days FROM maintenance_horizon) || ' days from the scan' AS evidence,
    CASE WHEN status = 'warn' THEN worst_config END AS target
FROM judged;
