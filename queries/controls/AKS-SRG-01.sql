-- AKS-SRG-01: surge settings keep capacity during upgrades. Missing keys mean the service defaults
-- (maxSurge 10%, maxUnavailable 0; ENUMS.md): older api-versions simply omit them. Values are "33%" or "1".
-- A percentage of maxUnavailable is turned into nodes by rounding up (the pessimistic reading). A malformed pool entry
-- (node_pools.pool_problem) is `unknown`, never judged on the defaults.
-- Blue-green pools (upgradeStrategy BlueGreen) do not surge: not_applicable, AKS-UPG-01 judges them.
-- The status is decided once (`reason`), then worded from the reason and named facts.
WITH effective AS (
    SELECT
        p.cluster_id, p.pool_name, p.pool_problem, p.mode, p.node_count, p.max_surge, p.max_unavailable,
        cp.system_max_unavailable AS limit_nodes,
        coalesce(nullif(trim(p.max_surge), ''), '10%') AS surge,
        coalesce(nullif(trim(p.max_unavailable), ''), '0') AS unavailable,
        nullif(trim(p.max_surge), '') IS NULL AS surge_defaulted,
        nullif(trim(p.max_unavailable), '') IS NULL AS unavailable_defaulted,
        coalesce(lower(trim(p.upgrade_strategy)) = 'bluegreen', false) AS bluegreen
    FROM node_pools p
    JOIN cluster_params cp USING (cluster_id)
),
measured AS (
    SELECT *,
        surge_value(surge) AS surge_n,
        surge_value(unavailable) AS unavailable_n,
        CASE
            WHEN surge_value(unavailable) IS NULL THEN NULL
            WHEN NOT surge_is_pct(unavailable) THEN surge_value(unavailable)
            WHEN surge_value(unavailable) = 0 THEN 0
            WHEN node_count IS NULL THEN NULL
            ELSE CAST(ceil(node_count * surge_value(unavailable) / 100.0) AS INTEGER)
        END AS unavailable_nodes,
        lower(mode) = 'system' AS is_system
    FROM effective
),
decided AS (
    SELECT *,
        CASE
            -- A null, nameless or non-object entry, or upgradeSettings of the wrong type: never the service defaults.
            WHEN pool_problem IS NOT NULL THEN 'malformed_pool'
            WHEN bluegreen THEN 'bluegreen'
            WHEN surge_n IS NULL THEN 'surge_unreadable'
            WHEN unavailable_n IS NULL THEN 'unavailable_unreadable'
            WHEN is_system AND unavailable_nodes > limit_nodes THEN 'system_over_limit'
            -- A percentage on a pool of unknown size: any non-zero value exceeds a limit of 0, else undecidable.
            WHEN is_system AND unavailable_nodes IS NULL AND limit_nodes = 0 THEN 'system_over_limit'
            WHEN is_system AND unavailable_nodes IS NULL THEN 'pool_size_unknown'
            WHEN surge_n = 0 AND unavailable_n = 0 THEN 'stalls'
            ELSE 'keeps_capacity'
        END AS reason,
        'maxSurge ' || surge || CASE WHEN surge_defaulted THEN ' (service default)' ELSE '' END
            || ', maxUnavailable ' || unavailable
            || CASE WHEN unavailable_defaulted THEN ' (service default)' ELSE '' END AS settings
    FROM measured
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    CASE reason
        WHEN 'bluegreen' THEN 'not_applicable'
        WHEN 'system_over_limit' THEN 'fail'
        WHEN 'stalls' THEN 'fail'
        WHEN 'keeps_capacity' THEN 'pass'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'malformed_pool' THEN pool_problem
        WHEN 'bluegreen' THEN
            'blue-green pool (upgradeStrategy BlueGreen): new nodes come up beside the old ones, surge settings do not '
            || 'apply (see AKS-UPG-01)'
        WHEN 'surge_unreadable' THEN 'maxSurge ''' || surge || ''' is neither a node count nor a percentage'
        WHEN 'unavailable_unreadable' THEN
            'maxUnavailable ''' || unavailable || ''' is neither a node count nor a percentage'
        WHEN 'pool_size_unknown' THEN
            settings || ': the pool''s node count is unknown, so ' || unavailable || ' cannot be compared with the limit of '
            || limit_nodes || ' node(s)'
        WHEN 'system_over_limit' THEN
            settings || ' on a System pool: an upgrade may take '
            || coalesce(CAST(unavailable_nodes AS VARCHAR) || ' node(s)', unavailable || ' of the nodes')
            || ' out of service at once (limit ' || limit_nodes || ')'
        WHEN 'stalls' THEN
            settings || ': an upgrade can neither add a node nor take one out, so it cannot proceed'
        ELSE settings || ' keep capacity during upgrades'
            || CASE WHEN is_system THEN ' (System pool, limit ' || limit_nodes || ' unavailable)' ELSE '' END
    END AS message,
    'mode=' || coalesce(mode, 'null') || '; count=' || coalesce(CAST(node_count AS VARCHAR), 'null')
        || '; upgradeSettings.maxSurge=' || coalesce(max_surge, 'absent') || '; upgradeSettings.maxUnavailable='
        || coalesce(max_unavailable, 'absent') AS evidence,
    NULL AS target
FROM decided;
