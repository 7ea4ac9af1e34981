-- Upgrade campaigns, from the ledger as of the evaluated scan (history_events, built by auditor/ledger.py).
-- Read by AKS-ORD-01, `auditor history` and the report. docs/history.md explains the rule; in short:
--   * a step is one participant (the control plane or a pool) reaching one version, with the interval in which it
--     did: an exact time from a resource change, or the window between two scans for a scan diff;
--   * a step's start is the pool's own provisioningState turning Upgrading shortly before (exact steps only);
--   * Kubernetes steps towards the same version, each within [campaign_window_hours] of the previous one, form one
--     campaign; node-image steps of a cluster chain the same way whatever the image (families differ per pool),
--     a pool taking part once per campaign;
--   * failures, scheduled events, Fleet Manager member updates and gate approvals, and changes to pools that could
--     not be named join the nearest campaign of their kind within the window, or form a campaign of their own.
--

CREATE OR REPLACE TEMP TABLE history_window AS
SELECT
    h.cluster_id,
    coalesce(p.campaign_window_hours, d.campaign_window_hours) AS window_hours
FROM (SELECT DISTINCT cluster_id FROM history_events) h
CROSS JOIN history_defaults d
LEFT JOIN (SELECT lower(cluster_id) AS cluster_id, campaign_window_hours FROM cluster_params) p USING (cluster_id);

CREATE OR REPLACE TEMP TABLE upgrade_steps AS
WITH reached AS (
    SELECT
        e.cluster_id,
        e.kind,
        e.target,
        e.to_version,
        arg_max(e.pool_mode, (e.window_end, e.pool_mode)) FILTER (WHERE e.pool_mode IS NOT NULL) AS event_mode,
        min(e.event_time)                                             AS exact_at,
        arg_min(e.window_start, (e.window_end, e.window_start)) AS window_start,
        min(e.window_end)                                             AS window_end,
        string_agg(DISTINCT e.source, ', ' ORDER BY e.source)         AS sources,
        bool_or(coalesce(e.mapping, '') = 'uncertain')                AS uncertain,
        string_agg(DISTINCT e.note, '; ' ORDER BY e.note) FILTER (WHERE e.mapping = 'uncertain') AS mapping_note,
        arg_min(e.from_version, (e.window_end, e.from_version)) AS from_version,
        count(*)                                                      AS events
    FROM history_events e
    WHERE e.phase = 'reached' AND e.target <> 'cluster' AND coalesce(e.mapping, '') <> 'unmapped'
      AND e.to_version IS NOT NULL
    GROUP BY e.cluster_id, e.kind, e.target, e.to_version
),
shaped AS (
    SELECT
        r.*,
        CASE WHEN r.target = 'control_plane' THEN NULL
             ELSE coalesce(r.event_mode, np.mode, 'User') END          AS pool_mode,
        coalesce(r.exact_at, r.window_start)                          AS reach_start,
        coalesce(r.exact_at, r.window_end)                            AS reach_end,
        w.window_hours
    FROM reached r
    JOIN history_window w USING (cluster_id)
    LEFT JOIN (SELECT lower(cluster_id) AS cluster_id, pool_name, mode FROM node_pools) np
        ON np.cluster_id = r.cluster_id AND np.pool_name = r.target
)
SELECT
    s.* EXCLUDE (event_mode),
    -- The upgrade of this participant began when its provisioningState turned Upgrading (or
    -- UpgradingNodeImageVersion), at most the campaign window before it reached the version.
    (SELECT max(st.event_time) FROM history_events st
     WHERE st.phase = 'started' AND st.cluster_id = s.cluster_id AND st.target = s.target
       AND (st.kind = s.kind OR s.kind = 'node-image')
       AND s.exact_at IS NOT NULL
       AND st.event_time <= s.reach_end
       AND st.event_time >= s.reach_start - to_hours(s.window_hours)) AS start_time
FROM shaped s;

-- Chaining, step by step in time order per (cluster, kind, version key): a step joins the open campaign when it
-- begins within the window after the campaign's latest end and its participant has no step in it yet (a pool takes
-- part once in a rollout: a second image for the same pool is the next rollout, however close in time); otherwise
-- it opens the next campaign. A scan diff's long window can thus not glue months of rollouts together.
CREATE OR REPLACE TEMP TABLE upgrade_step_order AS
SELECT
    *,
    CASE WHEN kind = 'kubernetes' THEN to_version ELSE '' END AS version_key,
    row_number() OVER (PARTITION BY cluster_id, kind, CASE WHEN kind = 'kubernetes' THEN to_version ELSE '' END
                       ORDER BY reach_start, reach_end, target) AS rn
FROM upgrade_steps;

CREATE OR REPLACE TEMP TABLE upgrade_step_chain AS
WITH RECURSIVE chain AS (
    SELECT cluster_id, kind, version_key, rn, 1::BIGINT AS n, [target] AS targets, reach_end AS chain_end
    FROM upgrade_step_order WHERE rn = 1
    UNION ALL
    SELECT
        o.cluster_id, o.kind, o.version_key, o.rn,
        CASE WHEN o.reach_start > c.chain_end + to_hours(o.window_hours) OR list_contains(c.targets, o.target)
             THEN c.n + 1 ELSE c.n END,
        CASE WHEN o.reach_start > c.chain_end + to_hours(o.window_hours) OR list_contains(c.targets, o.target)
             THEN [o.target] ELSE list_append(c.targets, o.target) END,
        CASE WHEN o.reach_start > c.chain_end + to_hours(o.window_hours) OR list_contains(c.targets, o.target)
             THEN o.reach_end ELSE greatest(c.chain_end, o.reach_end) END
    FROM chain c
    JOIN upgrade_step_order o ON o.cluster_id = c.cluster_id AND o.kind = c.kind AND o.version_key = c.version_key
                             AND o.rn = c.rn + 1
)
SELECT o.* EXCLUDE (rn), c.n
FROM upgrade_step_order o
JOIN chain c USING (cluster_id, kind, version_key, rn);

CREATE OR REPLACE TEMP TABLE upgrade_campaign_members AS
WITH numbered AS (
    SELECT * FROM upgrade_step_chain
),
steps AS (
    SELECT
        cluster_id || '|' || kind || '|' || version_key || '|' || n AS campaign_key,
        cluster_id, kind, 'step' AS role, target, pool_mode, from_version, to_version, reach_start, reach_end,
        start_time, exact_at IS NOT NULL AS exact, sources, uncertain, mapping_note AS note, events, window_hours
    FROM numbered
),
spans AS (
    SELECT campaign_key, cluster_id, kind, min(reach_start) AS first_at, max(reach_end) AS last_at,
           min(window_hours) AS window_hours
    FROM steps GROUP BY ALL
),
extras AS (
    SELECT
        e.event_key,
        e.cluster_id,
        e.kind,
        CASE WHEN e.phase IN ('failed', 'cancelled') AND e.target <> 'cluster'
                  AND coalesce(e.mapping, '') <> 'unmapped' THEN 'failed' ELSE 'evidence' END AS role,
        e.target,
        e.pool_mode,
        e.from_version,
        e.to_version,
        e.window_start AS reach_start,
        e.window_end AS reach_end,
        e.event_time IS NOT NULL AS exact,
        e.source AS sources,
        coalesce(e.mapping, '') = 'uncertain' AS uncertain,
        concat_ws('; ', e.phase, e.note) AS note,
        w.window_hours
    FROM history_events e
    JOIN history_window w USING (cluster_id)
    WHERE (e.phase IN ('failed', 'cancelled') AND e.target <> 'cluster')
       OR (e.source = 'scheduled_event' AND e.phase IN ('started', 'reached', 'failed', 'cancelled'))
       -- Fleet Manager member updates and gate approvals: when the cluster's update ran, not the order inside it.
       OR e.source IN ('fleet_update_run', 'fleet_gate')
       OR (coalesce(e.mapping, '') = 'unmapped' AND e.phase = 'reached')
),
matched AS (
    SELECT x.event_key, s.campaign_key
    FROM extras x
    JOIN spans s
      ON x.cluster_id = s.cluster_id AND x.kind = s.kind
     AND x.reach_end >= s.first_at - to_hours(s.window_hours)
     AND x.reach_start <= s.last_at + to_hours(s.window_hours)
    QUALIFY row_number() OVER (
        PARTITION BY x.event_key
        ORDER BY greatest(epoch(s.first_at) - epoch(x.reach_end), epoch(x.reach_start) - epoch(s.last_at), 0),
                 s.campaign_key) = 1
),
-- Extras near no campaign chain among themselves (a failure with nothing reached, a scheduled event alone).
alone AS (
    SELECT x.*,
           max(x.reach_end) OVER (PARTITION BY x.cluster_id, x.kind ORDER BY x.reach_start, x.event_key
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
    FROM extras x
    WHERE x.event_key NOT IN (SELECT event_key FROM matched)
),
alone_numbered AS (
    SELECT *,
           sum(CASE WHEN previous_end IS NULL OR reach_start > previous_end + to_hours(window_hours) THEN 1 ELSE 0 END)
               OVER (PARTITION BY cluster_id, kind ORDER BY reach_start, event_key ROWS UNBOUNDED PRECEDING) AS n
    FROM alone
)
SELECT campaign_key, cluster_id, kind, role, target, pool_mode, from_version, to_version, reach_start, reach_end,
       start_time, exact, sources, uncertain, note, events
FROM steps
UNION ALL
SELECT m.campaign_key, x.cluster_id, x.kind, x.role, x.target, x.pool_mode, x.from_version, x.to_version,
       x.reach_start, x.reach_end, NULL, x.exact, x.sources, x.uncertain, x.note, 1
FROM extras x JOIN matched m USING (event_key)
UNION ALL
SELECT cluster_id || '|' || kind || '|-|' || n, cluster_id, kind, role, target, pool_mode, from_version, to_version,
       reach_start, reach_end, NULL, exact, sources, uncertain, note, 1
FROM alone_numbered;

-- One row per campaign: its kind, version, span and a label for messages.
CREATE OR REPLACE TEMP TABLE upgrade_campaigns AS
WITH counted AS (
    -- How often each version occurs in a campaign, so the most frequent one is chosen with a total order (mode()
    -- picks any of a tie).
    SELECT *,
           count(to_version) OVER (PARTITION BY campaign_key, to_version) AS version_rows,
           sum(CASE WHEN role = 'step' THEN 1 ELSE 0 END) OVER (PARTITION BY campaign_key, to_version) AS version_steps
    FROM upgrade_campaign_members
),
agg AS (
    SELECT
        campaign_key,
        min(cluster_id)                                                         AS cluster_id,
        min(kind)                                                               AS kind,
        arg_max(to_version, (version_steps, to_version)) FILTER (WHERE role = 'step') AS step_version,
        arg_max(to_version, (version_rows, to_version)) FILTER (WHERE to_version IS NOT NULL) AS any_version,
        min(reach_start)                                                        AS first_at,
        max(reach_end)                                                          AS last_at,
        min(reach_start) FILTER (WHERE exact)                                   AS first_exact,
        count(*) FILTER (WHERE role = 'step')                                   AS steps,
        count(*) FILTER (WHERE role = 'failed')                                 AS failures,
        count(*) FILTER (WHERE role = 'evidence')                               AS evidence,
        sum(events)                                                             AS events,
        string_agg(DISTINCT sources, ', ' ORDER BY sources)                     AS sources
    FROM counted
    GROUP BY campaign_key
)
SELECT
    *,
    CASE WHEN kind = 'kubernetes' THEN coalesce(step_version, any_version) END AS version,
    CASE WHEN kind = 'kubernetes'
         THEN 'Kubernetes ' || coalesce(coalesce(step_version, any_version) || ' ', '') || 'upgrade'
         ELSE 'node-image rollout' END
    || CASE WHEN first_exact IS NOT NULL THEN ' of ' || strftime(first_exact, '%Y-%m-%d')
            WHEN strftime(first_at, '%Y-%m-%d') = strftime(last_at, '%Y-%m-%d') THEN ' of ' || strftime(first_at, '%Y-%m-%d')
            ELSE ' between ' || strftime(first_at, '%Y-%m-%d') || ' and ' || strftime(last_at, '%Y-%m-%d') END AS label
FROM agg;
