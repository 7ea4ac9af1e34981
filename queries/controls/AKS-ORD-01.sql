-- AKS-ORD-01: every upgrade campaign seen in the last [history_lookback_days] ran control plane -> System pools ->
-- User pools (docs/history.md). Campaigns come from the upgrade ledger as of this scan (upgrade_campaigns,
-- upgrade_campaign_members: queries/history/campaigns.sql, steps within [campaign_window_hours]); node-image
-- rollouts count too unless [node_image_order] is off. An order is proven only where the times allow it: two scan
-- diffs over the same window prove nothing, so such a campaign leaves the cluster `unknown`, never `pass`. A scan
-- diff's window excludes its start (the previous scan saw the old version): a step reached by the end of one window
-- came before a step of the next window.
WITH params AS (
    SELECT c.cluster_id, lower(c.cluster_id) AS cid, p.history_lookback_days, p.campaign_window_hours,
           p.node_image_order
    FROM clusters c
    JOIN cluster_params p USING (cluster_id)
),
as_of AS (
    SELECT started_at, scan_id FROM scan
),
campaigns AS (
    SELECT k.*, p.cluster_id AS resource_id, p.campaign_window_hours
    FROM upgrade_campaigns k
    JOIN params p ON k.cluster_id = p.cid
    CROSS JOIN as_of a
    WHERE k.last_at >= a.started_at - to_days(p.history_lookback_days)
      AND (k.kind = 'kubernetes' OR p.node_image_order)
      -- A node-OS update AKS reported that changed no pool's image (patches applied in place) has nothing to order.
      AND NOT (k.kind = 'node-image' AND k.steps = 0 AND k.failures = 0)
),
all_members AS (
    SELECT
        m.*,
        CASE WHEN m.target = 'control_plane' THEN 'control plane'
             ELSE lower(coalesce(m.pool_mode, 'user')) || ' pool ''' || m.target || '''' END
            || CASE WHEN m.uncertain THEN ' (pool name uncertain)' ELSE '' END AS who,
        CASE WHEN m.exact THEN strftime(m.reach_start, '%Y-%m-%d %H:%M')
             ELSE 'between ' || strftime(m.reach_start, '%Y-%m-%d %H:%M') || ' and '
                  || strftime(m.reach_end, '%Y-%m-%d %H:%M') END AS when_text,
        CASE WHEN m.exact THEN 'at ' || strftime(m.reach_start, '%Y-%m-%d %H:%M')
             ELSE 'between ' || strftime(m.reach_start, '%Y-%m-%d %H:%M') || ' and '
                  || strftime(m.reach_end, '%Y-%m-%d %H:%M') END || ' UTC' AS at_text,
        coalesce(m.to_version, k.version, 'the new image') AS what
    FROM upgrade_campaign_members m
    JOIN upgrade_campaigns k USING (campaign_key)
    WHERE m.cluster_id IN (SELECT cid FROM params)
),
-- Members of the campaigns judged (in the lookback); all_members also holds the earlier ones.
members AS (
    SELECT * FROM all_members WHERE campaign_key IN (SELECT campaign_key FROM campaigns)
),
steps AS (
    SELECT * FROM members WHERE role = 'step'
),
-- A failed participant that never reached the campaign's version within the campaign.
failures AS (
    SELECT f.* FROM members f
    WHERE f.role = 'failed'
      AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.campaign_key = f.campaign_key AND s.target = f.target)
),
pairs AS (
    -- The control plane before every pool (Kubernetes campaigns).
    SELECT
        b.campaign_key,
        CASE WHEN b.reach_end < a.reach_start OR (b.reach_end = a.reach_start AND NOT a.exact) THEN 'violation'
             WHEN a.reach_end <= b.reach_start THEN 'in_order'
             ELSE 'unresolved' END AS outcome,
        CASE WHEN b.reach_end < a.reach_start OR (b.reach_end = a.reach_start AND NOT a.exact)
             THEN b.who || ' reached ' || b.what || ' ' || b.at_text || ', before the control plane ('
                  || a.when_text || ')'
             ELSE 'the control plane and ' || b.who || ' changed within the same window (' || b.when_text || ')' END
            AS detail,
        b.reach_end AS happened
    FROM steps a
    JOIN steps b ON a.campaign_key = b.campaign_key AND a.target = 'control_plane' AND b.target <> 'control_plane'
    UNION ALL
    -- System pools before User pools: reached first, and no User pool started before the System pools finished.
    SELECT
        u.campaign_key,
        CASE WHEN u.reach_end < s.reach_start OR (u.reach_end = s.reach_start AND NOT s.exact)
                  OR u.start_time < s.reach_start OR (u.start_time = s.reach_start AND NOT s.exact) THEN 'violation'
             WHEN s.reach_end <= coalesce(u.start_time, u.reach_start) THEN 'in_order'
             ELSE 'unresolved' END,
        CASE WHEN u.reach_end < s.reach_start OR (u.reach_end = s.reach_start AND NOT s.exact)
             THEN u.who || ' reached ' || u.what || ' ' || u.at_text || ', before ' || s.who || ' ('
                  || s.when_text || ')'
             WHEN u.start_time <= s.reach_start
             THEN u.who || ' started upgrading at ' || strftime(u.start_time, '%Y-%m-%d %H:%M')
                  || ' UTC, before ' || s.who || ' had finished (' || s.when_text || ')'
             ELSE s.who || ' and ' || u.who || ' changed within the same window (' || u.when_text || ')' END,
        u.reach_end
    FROM steps s
    JOIN steps u ON s.campaign_key = u.campaign_key AND s.pool_mode = 'System' AND u.pool_mode = 'User'
    UNION ALL
    -- The control plane, or a System pool, failed and never got there, yet a later participant went ahead.
    SELECT
        u.campaign_key,
        'violation',
        u.who || ' reached ' || u.what || ' ' || u.at_text || ' although the upgrade of ' || f.who
            || ' failed (' || f.when_text || ') and it never got there',
        u.reach_end
    FROM failures f
    JOIN steps u ON f.campaign_key = u.campaign_key
    WHERE (f.target = 'control_plane' AND u.target <> 'control_plane')
       OR (f.pool_mode = 'System' AND u.pool_mode = 'User')
    UNION ALL
    -- The participant that had to come first reached the same version too, but in a later campaign (more than
    -- the window later): the order is still wrong.
    SELECT
        u.campaign_key,
        'violation',
        u.who || ' reached ' || u.what || ' ' || u.at_text || ', before ' || e.who || ', which reached it only '
            || e.at_text,
        u.reach_end
    FROM steps u
    JOIN all_members e
      ON e.role = 'step' AND e.cluster_id = u.cluster_id AND e.kind = u.kind AND e.to_version = u.to_version
     AND e.campaign_key <> u.campaign_key
     AND ((u.kind = 'kubernetes' AND e.target = 'control_plane' AND u.target <> 'control_plane')
          OR (e.pool_mode = 'System' AND u.pool_mode = 'User'))
    WHERE e.reach_start > u.reach_end OR (e.reach_start = u.reach_end AND NOT e.exact)
    UNION ALL
    -- A User pool reached the version while a System pool still runs an older one (this scan's snapshot).
    SELECT
        u.campaign_key,
        'violation',
        u.who || ' reached ' || u.what || ' ' || u.at_text || ' while system pool ''' || np.pool_name
            || ''' still runs ' || coalesce(np.current_orchestrator_version, np.orchestrator_version),
        u.reach_end
    FROM steps u
    JOIN campaigns k USING (campaign_key)
    JOIN node_pools np ON lower(np.cluster_id) = u.cluster_id
    WHERE k.kind = 'kubernetes' AND u.pool_mode = 'User' AND lower(np.mode) = 'system'
      AND minor_num(u.to_version) * 100000 + coalesce(patch_num(u.to_version), 0)
          > minor_num(coalesce(np.current_orchestrator_version, np.orchestrator_version)) * 100000
            + coalesce(patch_num(coalesce(np.current_orchestrator_version, np.orchestrator_version)), 0)
      AND NOT EXISTS (SELECT 1 FROM members x WHERE x.campaign_key = u.campaign_key AND x.target = np.pool_name)
),
outcomes AS (
    SELECT
        campaign_key,
        count(*) FILTER (WHERE outcome = 'violation') AS violations,
        count(*) FILTER (WHERE outcome = 'unresolved') AS unresolved_pairs,
        arg_min(detail, happened) FILTER (WHERE outcome = 'violation') AS violation,
        arg_min(detail, happened) FILTER (WHERE outcome = 'unresolved') AS unresolved
    FROM pairs
    GROUP BY campaign_key
),
judged AS (
    SELECT
        k.campaign_key, k.resource_id, k.label, k.kind, k.version, k.first_at, k.last_at, k.steps, k.failures,
        k.events, k.sources, o.violation, o.unresolved,
        CASE WHEN coalesce(o.violations, 0) > 0 THEN 'violation'
             WHEN coalesce(o.unresolved_pairs, 0) > 0 OR (k.steps = 0 AND k.failures = 0) THEN 'unresolved'
             ELSE 'in_order' END AS outcome
    FROM campaigns k
    LEFT JOIN outcomes o USING (campaign_key)
),
described AS (
    SELECT
        j.*,
        -- The latest campaign first; between two ending together, the Kubernetes one.
        epoch(j.last_at) * 2 + CASE j.kind WHEN 'kubernetes' THEN 1 ELSE 0 END AS rank_key,
        (SELECT string_agg(m.who || ' ' || m.when_text
                           || CASE WHEN m.start_time IS NOT NULL AND m.start_time < m.reach_start
                                   THEN ' (started ' || strftime(m.start_time, '%H:%M') || ')' ELSE '' END
                           || CASE WHEN m.role = 'failed' THEN ' FAILED' ELSE '' END,
                           ', ' ORDER BY m.reach_end, m.reach_start, m.who)
         FROM members m WHERE m.campaign_key = j.campaign_key AND m.role IN ('step', 'failed')) AS order_seen,
        (SELECT string_agg(m.who, ', ' ORDER BY m.who)
         FROM members m WHERE m.campaign_key = j.campaign_key AND m.role = 'failed') AS failed_who,
        (SELECT count(*) FROM members m WHERE m.campaign_key = j.campaign_key AND m.role = 'evidence'
           AND m.sources = 'resource_change') AS unmapped
    FROM judged j
),
per_cluster AS (
    SELECT
        p.cluster_id AS resource_id,
        p.cid,
        p.history_lookback_days,
        count(d.campaign_key) AS campaigns,
        count(*) FILTER (WHERE d.outcome = 'violation') AS violations,
        count(*) FILTER (WHERE d.outcome = 'unresolved') AS unresolved,
        arg_max(d.label || ': ' || d.violation || '. Order seen: ' || coalesce(d.order_seen, 'none'), d.rank_key)
            FILTER (WHERE d.outcome = 'violation') AS violation_text,
        arg_max(d.version, d.rank_key) FILTER (WHERE d.outcome = 'violation') AS violation_version,
        arg_max(d.label || ': ' || coalesce(d.unresolved, 'no per-pool change was recorded, only '
                || d.sources || ' evidence'), d.rank_key) FILTER (WHERE d.outcome = 'unresolved') AS unresolved_text,
        arg_max(d.label || ': ' || coalesce(d.order_seen, 'no step')
                || CASE WHEN d.failed_who IS NOT NULL THEN ' (interrupted: ' || d.failed_who || ' failed)' ELSE '' END,
                d.rank_key) AS latest_text,
        arg_max(d.version, d.rank_key) AS latest_version,
        sum(d.events) AS events,
        min(d.first_at) AS since,
        array_to_string(list_sort(list_distinct(flatten(list(string_split(d.sources, ', '))))), ', ') AS sources,
        sum(d.unmapped) AS unmapped
    FROM params p
    LEFT JOIN described d ON d.resource_id = p.cluster_id
    GROUP BY ALL
),
coverage AS (
    SELECT s.cluster_id AS cid, min(s.taken_at) AS first_seen, count(*) AS scans
    FROM history_snapshots s
    GROUP BY s.cluster_id
),
ledger AS (
    SELECT cluster_id AS cid, count(*) AS events, min(window_start) AS since FROM history_events GROUP BY cluster_id
),
collection AS (
    SELECT string_agg(call || ' (' || coalesce(code, 'error') || '): ' || message, '; ') AS errors
    FROM scan_errors WHERE call IN ('resource_change', 'scheduled_event')
)
SELECT
    c.resource_id,
    NULL AS node_pool,
    CASE
        WHEN c.violations > 0 THEN 'fail'
        WHEN c.unresolved > 0 THEN 'unknown'
        WHEN c.campaigns > 0 AND x.errors IS NOT NULL THEN 'unknown'
        WHEN c.campaigns > 0 THEN 'pass'
        WHEN coalesce(v.scans, 0) > 1 AND x.errors IS NULL THEN 'not_applicable'
        ELSE 'unknown'
    END AS status,
    CASE
        WHEN c.violations > 0 THEN
            c.violation_text
            || CASE WHEN c.campaigns > 1
                    THEN ' (' || c.violations || ' of ' || c.campaigns || ' campaigns in the last '
                         || days_text(c.history_lookback_days) || ' out of order)' ELSE '' END
        WHEN c.unresolved > 0 THEN
            'the order of ' || c.unresolved || ' of ' || c.campaigns || ' campaign(s) in the last '
            || days_text(c.history_lookback_days) || ' cannot be proven: ' || c.unresolved_text
            || ' (only resource changes give exact times: scan at least every 7 to 14 days)'
        WHEN c.campaigns > 0 AND x.errors IS NOT NULL THEN
            c.campaigns || ' campaign(s) ran in order, but this scan could not read all upgrade history: ' || x.errors
        WHEN c.campaigns > 0 THEN
            c.campaigns || ' campaign(s) in the last ' || days_text(c.history_lookback_days) || ' ran in order; latest: '
            || c.latest_text
        WHEN coalesce(v.scans, 0) > 1 AND x.errors IS NULL THEN
            'no upgrade observed in the last ' || days_text(c.history_lookback_days) || ' (history since '
            || strftime(v.first_seen, '%Y-%m-%d') || ', ' || v.scans || ' scans): nothing to order'
        WHEN x.errors IS NOT NULL THEN
            'no upgrade history covers this cluster: this scan could not read it (' || x.errors || ')'
        WHEN coalesce(l.events, 0) > 0 THEN
            'no upgrade history covers this cluster: no earlier scan to compare with, and none of the '
            || l.events || ' event(s) in the ledger is a step to order in the last '
            || days_text(c.history_lookback_days)
        ELSE
            'no upgrade history covers this cluster: no upgrade event in the ledger and no earlier scan to compare with'
    END
    || CASE WHEN coalesce(c.unmapped, 0) > 0
            THEN '; ' || c.unmapped || ' change(s) to a pool index that no snapshot names were left out' ELSE '' END
        AS message,
    CASE WHEN c.campaigns > 0
         THEN 'upgrade ledger as of this scan: ' || c.events || ' event(s) in ' || c.campaigns || ' campaign(s) since '
              || strftime(c.since, '%Y-%m-%d') || ' from ' || c.sources
         ELSE 'upgrade ledger as of this scan: ' || coalesce(l.events, 0) || ' event(s)'
              || coalesce(' since ' || strftime(l.since, '%Y-%m-%d'), '') || '; cluster seen in '
              || coalesce(v.scans, 0) || ' scan(s)' END AS evidence,
    coalesce(c.violation_version, c.latest_version) AS target
FROM per_cluster c
LEFT JOIN coverage v ON v.cid = c.cid
LEFT JOIN ledger l ON l.cid = c.cid
CROSS JOIN collection x;
