-- AKS-ORD-01: every upgrade campaign seen in the last [history_lookback_days] ran control plane -> System pools ->
-- User pools (docs/history.md). Campaigns come from the upgrade ledger as of this scan (upgrade_campaigns,
-- upgrade_campaign_members: queries/history/campaigns.sql, steps within [campaign_window_hours]); node-image
-- rollouts count too unless [node_image_order] is off. An order is proven only where the times allow it: two scan
-- diffs over the same window prove nothing, so such a campaign leaves the cluster `unknown`, never `pass`. A scan
-- diff's window excludes its start (the previous scan saw the old version): a step reached by the end of one window
-- came before a step of the next window.
--
-- Pool modes: System and ManagedSystem pools are System pools; every other mode (User, Gateway, Machines, or one
-- this tool does not know) is ordered as a User pool (KnownAgentPoolMode).
--
-- Who ran it. A campaign is labelled as run by AKS when the auto-upgrader recorded it (scheduled events, eventSource
-- AutoUpgrader); otherwise, unless a resource change of the campaign was made by a person (changedByType User), when
-- it is AKS's forced upgrade of a minor whose platform support (N-3) was ending (a Kubernetes campaign from such a
-- minor to the next, within 30 days before to 60 days after that end; auto-upgrade-cluster.md), or when the cluster
-- has a channel that runs such upgrades (upgradeChannel patch/stable/rapid for Kubernetes; a node OS channel or
-- upgradeChannel node-image for node images). AKS's auto-upgrade upgrades the control plane, then the pools one by one, in its own
-- order: the System-before-User rules judge AKS-run campaigns only when [aks_run_order] is on; the control plane
-- rules always apply.
--
-- The rules are named rows: `rules` lists them (number, name, the order they keep), each rule_* CTE below finds the
-- pairs that keep or break it, and `rule_results` holds each rule's result per cluster (broken, unproven, kept or
-- untested), from which the status is decided; the evidence names every broken rule (tests/test_ord01_rules.py breaks
-- each alone).
WITH rules (rule_number, rule, keeps) AS (
    VALUES
        (1, 'control_plane_first', 'the control plane before the pools'),
        (2, 'system_pools_first', 'the System pools before the User pools'),
        (3, 'control_plane_failed_first', 'the control plane before the pools'),
        (4, 'system_pool_failed_first', 'the System pools before the User pools'),
        (5, 'predecessor_in_later_campaign', 'the control plane before the pools, the System pools before the User pools'),
        (6, 'system_pool_left_behind', 'the System pools before the User pools')
),
entry_problems AS (
    SELECT cluster_id, string_agg(pool_problem, '; ' ORDER BY pool_index) AS entry_problems
    FROM node_pools WHERE pool_problem IS NOT NULL GROUP BY cluster_id
),
params AS (
    SELECT c.cluster_id, lower(c.cluster_id) AS cid, p.history_lookback_days, p.campaign_window_hours,
           p.node_image_order, p.aks_run_order, c.upgrade_channel, c.node_os_upgrade_channel, c.lts_eligible,
           coalesce(c.properties_problem, c.pools_problem) AS pools_problem, e.entry_problems
    FROM clusters c
    JOIN cluster_params p USING (cluster_id)
    LEFT JOIN entry_problems e USING (cluster_id)
),
as_of AS (
    SELECT started_at, scan_id FROM scan
),
candidate_campaigns AS (
    SELECT k.*, p.cluster_id AS resource_id, p.campaign_window_hours, p.aks_run_order, p.upgrade_channel,
           p.node_os_upgrade_channel, p.lts_eligible, k.kind = 'kubernetes' AS is_kubernetes
    FROM upgrade_campaigns k
    JOIN params p ON k.cluster_id = p.cid
    CROSS JOIN as_of a
    WHERE k.last_at >= a.started_at - to_days(p.history_lookback_days)
      AND (k.kind = 'kubernetes' OR p.node_image_order)
      -- A node-OS update AKS reported that changed no pool's image (patches applied in place) has nothing to order.
      AND NOT (k.kind = 'node-image' AND k.steps = 0 AND k.failures = 0)
),
-- Evidence of who ran each campaign: a resource change of the cluster, within the campaign, made by a person.
campaign_by_user AS (
    SELECT k.campaign_key, bool_or(e.note ILIKE '%changed by a User%') AS by_user
    FROM candidate_campaigns k
    JOIN history_events e
      ON e.cluster_id = k.cluster_id AND e.source = 'resource_change'
     AND e.window_end >= k.first_at - to_hours(k.campaign_window_hours) AND e.window_start <= k.last_at
    GROUP BY k.campaign_key
),
campaign_from AS (
    SELECT campaign_key, arg_min(from_version, (reach_end, from_version)) AS from_version
    FROM upgrade_campaign_members
    WHERE target = 'control_plane' AND role = 'step' AND from_version IS NOT NULL
    GROUP BY campaign_key
),
campaigns AS (
    SELECT
        k.*,
        CASE
            WHEN k.sources LIKE '%scheduled_event%' THEN 'AKS''s auto-upgrader recorded it'
            WHEN coalesce(u.by_user, false) THEN NULL
            WHEN k.is_kubernetes AND NOT k.lts_eligible AND cal.platform_support_end IS NOT NULL
                 AND minor_num(k.version) = minor_num(f.from_version) + 1
                 AND k.first_at BETWEEN cal.platform_support_end - INTERVAL 30 DAY
                                    AND cal.platform_support_end + INTERVAL 60 DAY
                THEN 'AKS''s forced upgrade of ' || cal.minor || ', whose platform support ended on '
                     || strftime(cal.platform_support_end, '%Y-%m-%d')
            WHEN k.is_kubernetes AND k.upgrade_channel IN ('patch', 'stable', 'rapid')
                THEN 'upgradeChannel ' || k.upgrade_channel || ' is set and no change shows a person starting it'
            WHEN k.kind = 'node-image' AND (k.upgrade_channel = 'node-image'
                                            OR k.node_os_upgrade_channel IN ('nodeimage', 'securitypatch'))
                THEN 'a node OS upgrade channel is set and no change shows a person starting it'
        END AS aks_run
    FROM candidate_campaigns k
    LEFT JOIN campaign_by_user u USING (campaign_key)
    LEFT JOIN campaign_from f USING (campaign_key)
    LEFT JOIN version_calendar cal ON cal.minor_num = minor_num(f.from_version)
),
judged_campaigns AS (
    -- Whether the System-before-User rules apply to a campaign.
    SELECT campaign_key, aks_run IS NULL OR aks_run_order AS system_order FROM campaigns
),
all_members AS (
    SELECT
        m.*,
        lower(coalesce(m.pool_mode, 'user')) IN ('system', 'managedsystem') AS is_system,
        CASE WHEN m.target = 'control_plane' THEN 'control plane'
             WHEN lower(coalesce(m.pool_mode, 'user')) IN ('system', 'user') THEN
                 lower(coalesce(m.pool_mode, 'user')) || ' pool ''' || m.target || ''''
             WHEN lower(m.pool_mode) = 'managedsystem' THEN 'managed system pool ''' || m.target || ''''
             ELSE lower(m.pool_mode) || ' pool ''' || m.target || ''' (ordered as a User pool)' END
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
    SELECT a.*, j.system_order FROM all_members a JOIN judged_campaigns j USING (campaign_key)
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
-- Rule control_plane_first: no pool reached the version before the control plane (Kubernetes campaigns).
control_plane_pairs AS (
    SELECT
        b.campaign_key, b.who, b.what, b.at_text, b.when_text, a.when_text AS control_plane_when,
        b.reach_end AS happened,
        b.reach_end < a.reach_start OR (b.reach_end = a.reach_start AND NOT a.exact) AS pool_reached_first,
        a.reach_end <= b.reach_start AS control_plane_reached_first
    FROM steps a
    JOIN steps b ON a.campaign_key = b.campaign_key AND a.target = 'control_plane' AND b.target <> 'control_plane'
),
rule_control_plane_first AS (
    SELECT
        'control_plane_first' AS rule,
        campaign_key,
        CASE WHEN pool_reached_first THEN 'violation'
             WHEN control_plane_reached_first THEN 'in_order'
             ELSE 'unresolved' END AS outcome,
        CASE WHEN pool_reached_first
             THEN who || ' reached ' || what || ' ' || at_text || ', before the control plane (' || control_plane_when
                  || ')'
             ELSE 'the control plane and ' || who || ' changed within the same window (' || when_text || ')' END
            AS detail,
        happened
    FROM control_plane_pairs
),
-- Rule system_pools_first: no User pool reached the version before a System pool, and none started upgrading before
-- the System pools had finished (where the pools' own provisioningState shows the start).
system_pool_pairs AS (
    SELECT
        u.campaign_key, u.who, u.what, u.at_text, u.when_text, u.start_time, s.who AS system_who,
        s.when_text AS system_when, u.reach_end AS happened,
        u.reach_end < s.reach_start OR (u.reach_end = s.reach_start AND NOT s.exact) AS user_reached_first,
        -- An exact step has one instant (reach_start = reach_end); a window's start was still the old version.
        u.start_time < s.reach_start OR (u.start_time = s.reach_start AND NOT s.exact) AS user_started_first,
        s.reach_end <= coalesce(u.start_time, u.reach_start) AS system_finished_first
    FROM steps s
    JOIN steps u ON s.campaign_key = u.campaign_key AND s.target <> 'control_plane' AND s.is_system
                AND u.target <> 'control_plane' AND NOT u.is_system
    WHERE s.system_order
),
rule_system_pools_first AS (
    SELECT
        'system_pools_first' AS rule,
        campaign_key,
        CASE WHEN user_reached_first OR user_started_first THEN 'violation'
             WHEN system_finished_first THEN 'in_order'
             ELSE 'unresolved' END AS outcome,
        CASE WHEN user_reached_first
             THEN who || ' reached ' || what || ' ' || at_text || ', before ' || system_who || ' (' || system_when || ')'
             WHEN user_started_first
             THEN who || ' started upgrading at ' || strftime(start_time, '%Y-%m-%d %H:%M')
                  || ' UTC, before ' || system_who || ' had finished (' || system_when || ')'
             ELSE system_who || ' and ' || who || ' changed within the same window (' || when_text || ')' END
            AS detail,
        happened
    FROM system_pool_pairs
),
-- Rule control_plane_failed_first: the control plane's upgrade failed and it never got there, yet a pool went ahead.
rule_control_plane_failed_first AS (
    SELECT
        'control_plane_failed_first' AS rule, u.campaign_key, 'violation' AS outcome,
        u.who || ' reached ' || u.what || ' ' || u.at_text || ' although the upgrade of ' || f.who
            || ' failed (' || f.when_text || ') and it never got there' AS detail,
        u.reach_end AS happened
    FROM failures f
    JOIN steps u ON f.campaign_key = u.campaign_key
    WHERE f.target = 'control_plane' AND u.target <> 'control_plane'
),
-- Rule system_pool_failed_first: a System pool's upgrade failed and it never got there, yet a User pool went ahead.
rule_system_pool_failed_first AS (
    SELECT
        'system_pool_failed_first' AS rule, u.campaign_key, 'violation' AS outcome,
        u.who || ' reached ' || u.what || ' ' || u.at_text || ' although the upgrade of ' || f.who
            || ' failed (' || f.when_text || ') and it never got there' AS detail,
        u.reach_end AS happened
    FROM failures f
    JOIN steps u ON f.campaign_key = u.campaign_key
    WHERE f.target <> 'control_plane' AND f.is_system AND u.target <> 'control_plane' AND NOT u.is_system
      AND u.system_order
),
-- Rule predecessor_in_later_campaign: the participant that had to come first (the control plane, or a System pool
-- before a User pool) reached the same version too, but only in a later campaign (more than the window later).
rule_predecessor_in_later_campaign AS (
    SELECT
        'predecessor_in_later_campaign' AS rule, u.campaign_key, 'violation' AS outcome,
        u.who || ' reached ' || u.what || ' ' || u.at_text || ', before ' || e.who || ', which reached it only '
            || e.at_text AS detail,
        u.reach_end AS happened
    FROM steps u
    JOIN all_members e
      ON e.role = 'step' AND e.cluster_id = u.cluster_id AND e.kind = u.kind AND e.to_version = u.to_version
     AND e.campaign_key <> u.campaign_key
     AND ((u.kind = 'kubernetes' AND e.target = 'control_plane' AND u.target <> 'control_plane')
          OR (u.system_order AND e.target <> 'control_plane' AND e.is_system
              AND u.target <> 'control_plane' AND NOT u.is_system))
    WHERE e.reach_start > u.reach_end OR (e.reach_start = u.reach_end AND NOT e.exact)
),
-- Rule system_pool_left_behind: a User pool reached the version while a System pool still runs an older one (this
-- scan's snapshot).
rule_system_pool_left_behind AS (
    SELECT
        'system_pool_left_behind' AS rule, u.campaign_key, 'violation' AS outcome,
        u.who || ' reached ' || u.what || ' ' || u.at_text || ' while system pool ''' || np.pool_name
            || ''' still runs ' || coalesce(np.current_orchestrator_version, np.orchestrator_version) AS detail,
        u.reach_end AS happened
    FROM steps u
    JOIN campaigns k USING (campaign_key)
    JOIN node_pools np ON lower(np.cluster_id) = u.cluster_id
    WHERE k.kind = 'kubernetes' AND u.target <> 'control_plane' AND NOT u.is_system AND u.system_order
      AND np.pool_problem IS NULL AND lower(np.mode) IN ('system', 'managedsystem')
      AND minor_num(u.to_version) * 100000 + coalesce(patch_num(u.to_version), 0)
          > minor_num(coalesce(np.current_orchestrator_version, np.orchestrator_version)) * 100000
            + coalesce(patch_num(coalesce(np.current_orchestrator_version, np.orchestrator_version)), 0)
      AND NOT EXISTS (SELECT 1 FROM members x WHERE x.campaign_key = u.campaign_key AND x.target = np.pool_name)
),
checked_pairs AS (
    SELECT * FROM rule_control_plane_first
    UNION ALL SELECT * FROM rule_system_pools_first
    UNION ALL SELECT * FROM rule_control_plane_failed_first
    UNION ALL SELECT * FROM rule_system_pool_failed_first
    UNION ALL SELECT * FROM rule_predecessor_in_later_campaign
    UNION ALL SELECT * FROM rule_system_pool_left_behind
),
-- Every row belongs to a listed rule (an inner join: a rule_* CTE missing from `rules` would judge nothing).
pairs AS (
    SELECT p.*, r.rule_number FROM checked_pairs p JOIN rules r USING (rule)
),
-- Each rule's result per cluster over the campaigns judged: broken by any violation, else unproven by any pair whose
-- order the times cannot show, else kept by a pair in order, else untested (nothing it applies to).
rule_results AS (
    SELECT
        p.cid, r.rule_number, r.rule,
        CASE WHEN count(x.rule) FILTER (WHERE x.outcome = 'violation') > 0 THEN 'broken'
             WHEN count(x.rule) FILTER (WHERE x.outcome = 'unresolved') > 0 THEN 'unproven'
             WHEN count(x.rule) > 0 THEN 'kept'
             ELSE 'untested' END AS result
    FROM params p
    CROSS JOIN rules r
    LEFT JOIN (SELECT k.cluster_id AS cid, q.* FROM pairs q JOIN campaigns k USING (campaign_key)) x
      ON x.cid = p.cid AND x.rule = r.rule
    GROUP BY ALL
),
broken_rules AS (
    SELECT cid, count(*) AS broken, string_agg(rule, ', ' ORDER BY rule_number) AS rules
    FROM rule_results WHERE result = 'broken' GROUP BY cid
),
outcomes AS (
    SELECT
        campaign_key,
        count(*) FILTER (WHERE outcome = 'violation') AS violations,
        count(*) FILTER (WHERE outcome = 'unresolved') AS unresolved_pairs,
        arg_min(detail, (happened, rule, detail)) FILTER (WHERE outcome = 'violation') AS violation,
        arg_min(detail, (happened, rule, detail)) FILTER (WHERE outcome = 'unresolved') AS unresolved
    FROM pairs
    GROUP BY campaign_key
),
judged AS (
    SELECT
        k.campaign_key, k.resource_id, k.kind, k.is_kubernetes, k.version, k.first_at, k.last_at, k.steps, k.failures,
        k.events, k.sources, k.aks_run, o.violation, o.unresolved,
        k.label || CASE WHEN k.aks_run IS NOT NULL THEN ' (run by AKS: ' || k.aks_run || ')' ELSE '' END AS label,
        CASE WHEN coalesce(o.violations, 0) > 0 THEN 'violation'
             WHEN coalesce(o.unresolved_pairs, 0) > 0 OR (k.steps = 0 AND k.failures = 0) THEN 'unresolved'
             ELSE 'in_order' END AS outcome
    FROM campaigns k
    LEFT JOIN outcomes o USING (campaign_key)
),
described AS (
    SELECT
        j.*,
        -- The latest campaign first; between two ending together, the Kubernetes one, then by key (a total order:
        -- arg_max over rank_key never ties).
        (epoch(j.last_at) * 2 + CASE WHEN j.is_kubernetes THEN 1 ELSE 0 END, j.campaign_key) AS rank_key,
        (SELECT string_agg(m.who || ' ' || m.when_text
                           || CASE WHEN m.start_time IS NOT NULL AND m.start_time < m.reach_start
                                   THEN ' (started ' || strftime(m.start_time, '%H:%M') || ')' ELSE '' END
                           || CASE WHEN m.role = 'failed' THEN ' FAILED' ELSE '' END,
                           ', ' ORDER BY m.reach_end, m.reach_start, m.who, m.role, m.start_time)
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
        p.aks_run_order,
        p.upgrade_channel,
        p.pools_problem,
        p.entry_problems,
        count(d.campaign_key) AS campaigns,
        count(d.campaign_key) > 0 AS any_campaign,
        count(*) FILTER (WHERE d.outcome = 'violation') AS violations,
        count(*) FILTER (WHERE d.outcome = 'unresolved') AS unresolved,
        count(*) FILTER (WHERE d.aks_run IS NOT NULL) AS aks_run,
        arg_max(d.label || ': ' || d.violation || '. Order seen: ' || coalesce(d.order_seen, 'none'), d.rank_key)
            FILTER (WHERE d.outcome = 'violation') AS violation_text,
        arg_max(d.kind, d.rank_key) FILTER (WHERE d.outcome = 'violation') AS violation_kind,
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
    SELECT string_agg(call || ' (' || coalesce(code, 'error') || '): ' || message, '; ' ORDER BY call, scope, message)
               AS errors
    FROM scan_errors WHERE call IN ('resource_change', 'scheduled_event')
),
decided AS (
    SELECT c.*, v.scans, v.first_seen, l.events AS ledger_events, l.since AS ledger_since, x.errors,
        b.broken AS broken_count, b.rules AS broken_rules,
        CASE
            WHEN b.broken > 0 THEN 'violation'
            WHEN c.pools_problem IS NOT NULL THEN 'pools_unreadable'
            WHEN c.entry_problems IS NOT NULL THEN 'pool_entries_unreadable'
            WHEN c.unresolved > 0 THEN 'unresolved'
            WHEN c.any_campaign AND x.errors IS NOT NULL THEN 'history_incomplete'
            WHEN c.any_campaign THEN 'in_order'
            WHEN coalesce(v.scans, 0) > 1 AND x.errors IS NULL THEN 'quiet'
            WHEN x.errors IS NOT NULL THEN 'no_history_errors'
            WHEN coalesce(l.events, 0) > 0 THEN 'no_history_steps'
            ELSE 'no_history'
        END AS reason
    FROM per_cluster c
    LEFT JOIN coverage v ON v.cid = c.cid
    LEFT JOIN ledger l ON l.cid = c.cid
    LEFT JOIN broken_rules b ON b.cid = c.cid
    CROSS JOIN collection x
)
SELECT
    resource_id,
    NULL AS node_pool,
    CASE reason WHEN 'violation' THEN 'fail' WHEN 'in_order' THEN 'pass' WHEN 'quiet' THEN 'not_applicable'
                ELSE 'unknown' END AS status,
    CASE reason
        WHEN 'violation' THEN
            violation_text
            || CASE WHEN campaigns > 1
                    THEN ' (' || violations || ' of ' || campaigns || ' campaigns in the last '
                         || days_text(history_lookback_days) || ' out of order)' ELSE '' END
            -- What works next time: with an upgrade channel set AKS refuses az aks upgrade --control-plane-only.
            || CASE WHEN violation_kind = 'node-image'
                    THEN '. Next rollout: az aks nodepool upgrade --node-image-only on each System pool first, then the '
                         || 'User pools'
                    WHEN upgrade_channel = 'none'
                    THEN '. Next upgrade: az aks upgrade --control-plane-only, then az aks nodepool upgrade on each '
                         || 'System pool, then on the User pools'
                    ELSE '. Next upgrade: with upgradeChannel ' || upgrade_channel || ' set, AKS refuses '
                         || 'az aks upgrade --control-plane-only and upgrades the control plane, then the pools one by '
                         || 'one; to order the pools yourself, set the channel to none for the upgrade (az aks update '
                         || '--auto-upgrade-channel none), upgrade the control plane, then each System pool, then the '
                         || 'User pools, and set the channel back' END
        WHEN 'pools_unreadable' THEN
            pools_problem || ': the System pools'' versions cannot be compared with the campaigns'
        WHEN 'pool_entries_unreadable' THEN
            entry_problems || ': that pool''s mode and version are not known, so the order cannot be proven'
        WHEN 'unresolved' THEN
            'the order of ' || unresolved || ' of ' || campaigns || ' campaign(s) in the last '
            || days_text(history_lookback_days) || ' cannot be proven: ' || unresolved_text
            || ' (only resource changes give exact times: scan at least every 7 to 14 days)'
        WHEN 'history_incomplete' THEN
            campaigns || ' campaign(s) ran in order, but this scan could not read all upgrade history: ' || errors
        WHEN 'in_order' THEN
            campaigns || ' campaign(s) in the last ' || days_text(history_lookback_days) || ' ran in order; latest: '
            || latest_text
        WHEN 'quiet' THEN
            'no upgrade observed in the last ' || days_text(history_lookback_days) || ' (history since '
            || strftime(first_seen, '%Y-%m-%d') || ', ' || scans || ' scans): nothing to order'
        WHEN 'no_history_errors' THEN
            'no upgrade history covers this cluster: this scan could not read it (' || errors || ')'
        WHEN 'no_history_steps' THEN
            'no upgrade history covers this cluster: no earlier scan to compare with, and none of the '
            || ledger_events || ' event(s) in the ledger is a step to order in the last '
            || days_text(history_lookback_days)
        ELSE
            'no upgrade history covers this cluster: no upgrade event in the ledger and no earlier scan to compare with'
    END
    || CASE WHEN coalesce(unmapped, 0) > 0
            THEN '; ' || unmapped || ' change(s) to a pool index that no snapshot names were left out' ELSE '' END
    || CASE WHEN aks_run > 0 AND NOT aks_run_order AND reason IN ('in_order', 'history_incomplete', 'unresolved')
            THEN '; System-before-User is not judged on the ' || aks_run || ' campaign(s) AKS ran (aks_run_order '
                 || 'is off)' ELSE '' END
        AS message,
    CASE WHEN any_campaign
         THEN 'upgrade ledger as of this scan: ' || events || ' event(s) in ' || campaigns || ' campaign(s) since '
              || strftime(since, '%Y-%m-%d') || ' from ' || sources
              || coalesce('; ' || nullif(aks_run, 0) || ' run by AKS', '')
              || coalesce(CASE WHEN broken_count > 1 THEN '; rules broken: ' ELSE '; rule broken: ' END || broken_rules, '')
         ELSE 'upgrade ledger as of this scan: ' || coalesce(ledger_events, 0) || ' event(s)'
              || coalesce(' since ' || strftime(ledger_since, '%Y-%m-%d'), '') || '; cluster seen in '
              || coalesce(scans, 0) || ' scan(s)' END AS evidence,
    coalesce(violation_version, latest_version) AS target
FROM decided;
