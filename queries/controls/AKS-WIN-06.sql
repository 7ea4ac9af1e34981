-- AKS-WIN-06: the maintenance window is long enough for a rolling upgrade of the pool. A rolling upgrade of n nodes
-- upgrades s nodes at a time: s is maxSurge (a percentage of n rounded up; service default 10%), or maxUnavailable
-- when maxSurge is 0, and never more than n. It takes about ceil(n / s) rounds, each of [node_provisioning_minutes]
-- + drainTimeoutInMinutes (default 30) + nodeSoakDurationInMinutes (default 0). `warn` when that exceeds the
-- durationHours of a window that schedules the pool's upgrades (aksManagedAutoUpgradeSchedule,
-- aksManagedNodeOSUpgradeSchedule). AKS finishes work it started in a window, but starts none after it closes.
-- Pools are read from pool_rollout (queries/model/82_pool_rollout.sql): a malformed entry is `unknown`, a value
-- present but unreadable is `unknown` (never its service default), and a blue-green pool is not upgraded in rolling
-- rounds (`not_applicable` here; AKS-UPG-01 judges its settings).
WITH windows AS (
    SELECT w.cluster_id,
           count(*) AS windows,
           min(w.duration_hours) AS shortest_hours,
           arg_min(w.name, (w.duration_hours, w.config_key)) AS shortest_name,
           string_agg(w.name || ' ' || w.duration_hours || ' h', ', ' ORDER BY w.config_key) AS listed,
           bool_or(x.cluster_id IS NOT NULL) AS unreadable
    FROM maintenance_schedules w
    LEFT JOIN maintenance_window_problems x ON x.cluster_id = w.cluster_id AND x.config_key = w.config_key
    WHERE w.form = 'window' AND w.config_key IN ('aksmanagedautoupgradeschedule', 'aksmanagednodeosupgradeschedule')
    GROUP BY w.cluster_id
),
settings AS (
    SELECT
        p.cluster_id, p.pool_name, p.pool_problem, p.upgrade_strategy, p.node_count,
        p.max_surge_raw AS max_surge, p.max_unavailable_raw AS max_unavailable,
        coalesce(nullif(trim(p.max_surge_raw), ''), '10%') AS surge,
        coalesce(nullif(trim(p.max_unavailable_raw), ''), '0') AS unavailable,
        nullif(trim(p.max_surge_raw), '') IS NULL AS surge_defaulted,
        coalesce(p.drain_timeout, 30) AS drain, p.drain_timeout_raw IS NULL AS drain_defaulted,
        coalesce(p.soak, 0) AS soak, p.soak_raw IS NULL AS soak_defaulted,
        CASE WHEN p.drain_timeout_raw IS NOT NULL AND p.drain_timeout IS NULL
             THEN 'drainTimeoutInMinutes ''' || p.drain_timeout_raw || ''' is not a whole number of minutes'
             WHEN p.soak_raw IS NOT NULL AND p.soak IS NULL
             THEN 'nodeSoakDurationInMinutes ''' || p.soak_raw || ''' is not a whole number of minutes'
        END AS timing_problem,
        cp.node_provisioning_minutes AS provision
    FROM pool_rollout p
    JOIN cluster_params cp USING (cluster_id)
),
measured AS (
    SELECT *, surge_value(surge) AS surge_n, surge_value(unavailable) AS unavailable_n, node_count IS NULL AS size_unknown
    FROM settings
),
nodes AS (
    SELECT *,
        -- An unreadable setting (NULL) gives NULL nodes, as does a pool of unknown size.
        CASE WHEN size_unknown THEN NULL
             WHEN surge_is_pct(surge) THEN CAST(ceil(node_count * surge_n / 100.0) AS INTEGER)
             ELSE surge_n END AS surge_nodes,
        CASE WHEN size_unknown THEN NULL
             WHEN surge_is_pct(unavailable) THEN CAST(ceil(node_count * unavailable_n / 100.0) AS INTEGER)
             ELSE unavailable_n END AS unavailable_nodes
    FROM measured
),
estimated AS (
    SELECT *,
        -- Surge first; maxUnavailable only when there is no surge (upgrade-aks-node-pools-rolling.md).
        least(node_count, CASE WHEN surge_nodes > 0 THEN surge_nodes ELSE unavailable_nodes END) AS at_once
    FROM nodes
),
timed AS (
    SELECT *,
        CASE WHEN at_once > 0 THEN CAST(ceil(node_count / at_once) AS INTEGER)
             WHEN node_count = 0 THEN 0 END AS rounds
    FROM estimated
),
judged AS (
    SELECT t.*, w.windows, w.shortest_hours, w.shortest_name, w.listed, coalesce(w.unreadable, false) AS unreadable,
           t.rounds * (t.provision + t.drain + t.soak) AS minutes,
           t.cluster_id IN (SELECT cluster_id FROM maintenance_collected) AS collected
    FROM timed t
    LEFT JOIN windows w USING (cluster_id)
),
decided AS (
    SELECT *,
        CASE
            WHEN pool_problem IS NOT NULL THEN 'malformed_pool'
            WHEN NOT collected THEN 'not_collected'
            WHEN windows IS NULL THEN 'no_window'
            WHEN upgrade_strategy = 'bluegreen' THEN 'bluegreen'
            WHEN timing_problem IS NOT NULL THEN 'timing_unreadable'
            WHEN size_unknown THEN 'size_unknown'
            WHEN surge_n IS NULL THEN 'surge_unreadable'
            WHEN unavailable_n IS NULL THEN 'unavailable_unreadable'
            WHEN rounds IS NULL THEN 'no_progress'
            WHEN minutes > shortest_hours * 60 THEN 'too_long'
            WHEN unreadable THEN 'window_unreadable'
            ELSE 'fits'
        END AS reason,
        node_count || ' node(s), ' || coalesce(CAST(at_once AS VARCHAR), '?') || ' at a time (maxSurge ' || surge
            || CASE WHEN surge_defaulted THEN ' (service default)' ELSE '' END
            || CASE WHEN coalesce(surge_nodes, 0) = 0 THEN ', maxUnavailable ' || unavailable ELSE '' END || '): '
            || coalesce(CAST(rounds AS VARCHAR), '?') || ' round(s) x (' || provision || ' min provisioning + ' || drain
            || ' min drain timeout' || CASE WHEN drain_defaulted THEN ' (default)' ELSE '' END || ' + ' || soak
            || ' min soak' || CASE WHEN soak_defaulted THEN ' (default)' ELSE '' END || ') = '
            || coalesce(CAST(minutes AS VARCHAR), '?') || ' min'
            || coalesce(' (' || round(minutes / 60.0, 1) || ' h)', '') AS estimate
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    CASE reason
        WHEN 'no_window' THEN 'not_applicable'
        WHEN 'bluegreen' THEN 'not_applicable'
        WHEN 'too_long' THEN 'warn'
        WHEN 'fits' THEN 'pass'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'malformed_pool' THEN pool_problem
        WHEN 'not_collected' THEN 'maintenance configurations were not collected: the window length is unknown'
        WHEN 'no_window' THEN
            'the cluster has no auto-upgrade or node-os maintenance window to fit in (see AKS-WIN-01, AKS-WIN-02)'
        WHEN 'bluegreen' THEN
            'the pool upgrades blue-green (upgradeStrategy BlueGreen), not in rolling rounds: the rolling estimate does '
            || 'not apply (AKS-UPG-01 judges its blue-green settings)'
        WHEN 'timing_unreadable' THEN timing_problem || ', so the upgrade cannot be estimated'
        WHEN 'size_unknown' THEN 'the pool''s node count is unknown, so the upgrade cannot be estimated'
        WHEN 'surge_unreadable' THEN 'maxSurge ''' || surge || ''' is neither a node count nor a percentage'
        WHEN 'unavailable_unreadable' THEN
            'maxUnavailable ''' || unavailable || ''' is neither a node count nor a percentage'
        WHEN 'no_progress' THEN
            'maxSurge ' || surge || ' and maxUnavailable ' || unavailable
            || ' upgrade no node at a time: the upgrade cannot proceed (see AKS-SRG-01)'
        WHEN 'too_long' THEN
            'a rolling upgrade takes longer than the ' || shortest_hours || ' h ' || shortest_name || ' window: '
            || estimate || '; windows: ' || listed
        WHEN 'window_unreadable' THEN
            'a maintenance window of the cluster could not be read, so its length is unknown: ' || estimate
        ELSE 'a rolling upgrade fits the shortest window (' || shortest_name || ', ' || shortest_hours || ' h): '
             || estimate
    END AS message,
    'count=' || coalesce(CAST(node_count AS VARCHAR), 'null') || '; upgradeSettings.maxSurge='
        || coalesce(max_surge, 'absent') || '; upgradeSettings.maxUnavailable=' || coalesce(max_unavailable, 'absent')
        || '; drainTimeoutInMinutes=' || CASE WHEN drain_defaulted THEN 'absent' ELSE CAST(drain AS VARCHAR) END
        || '; nodeSoakDurationInMinutes=' || CASE WHEN soak_defaulted THEN 'absent' ELSE CAST(soak AS VARCHAR) END
        || '; upgradeStrategy=' || upgrade_strategy
        || '; provisioning=' || provision || ' min; windows=[' || coalesce(listed, '') || ']' AS evidence,
    CASE WHEN reason = 'too_long' THEN shortest_name END AS target
FROM decided;
