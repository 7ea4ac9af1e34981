-- AKS-UPG-01: production pools roll at the pace Microsoft recommends. A cluster is in production when its
-- [ring_tag] tag names the last ring of [ring_order] (as AKS-RNG-01 decides; policy scopes tailor the thresholds).
-- Rolling pools (upgradeStrategy absent or Rolling): maxSurge (service default 10%) is at least
-- [upgrade_min_surge_percent] percent of the pool, a count being turned into a percentage of the pool's nodes; the
-- drain timeout (default 30 minutes) and the node soak (default 0 minutes) are read and shown, not judged.
-- Blue-green pools (upgradeStrategy BlueGreen) are judged on upgradeSettingsBlueGreen: drainBatchSize (default 10%)
-- must be readable and above 0, and finalSoakDurationInMinutes (default 60) above 0, since blue-green rollback is
-- only possible during the final soak; a final soak of 0 is a `warn`. Missing keys mean the service defaults.
-- A malformed pool entry (pool_problem) is `unknown`; so is a cluster whose tags cannot be read (its ring is unknown).
-- The status is decided once (`reason`), then worded from the reason and named facts.
WITH params AS (
    SELECT
        r.*,
        cp.upgrade_min_surge_percent AS min_pct,
        lower(cp.ring_tag) AS ring_tag, cp.ring_tag AS ring_tag_name,
        list_transform(cp.ring_order, lambda x: lower(x)) AS rings,
        c.tag_pairs, c.tags_problem
    FROM pool_rollout r
    JOIN clusters c USING (cluster_id)
    JOIN cluster_params cp USING (cluster_id)
),
ringed AS (
    SELECT
        *,
        list_filter(tag_pairs, lambda t: split_part(t, chr(31), 1) = ring_tag)[1] AS ring_pair,
        rings[len(rings)] AS production_ring
    FROM params
),
shaped AS (
    SELECT
        *,
        nullif(split_part(ring_pair, chr(31), 2), '') AS ring,
        coalesce(nullif(split_part(ring_pair, chr(31), 2), '') = production_ring, false) AS production,
        -- Rolling
        coalesce(nullif(trim(max_surge_raw), ''), '10%') AS surge,
        nullif(trim(max_surge_raw), '') IS NULL AS surge_defaulted,
        coalesce(drain_timeout, 30) AS drain_minutes,
        drain_timeout_raw IS NULL AS drain_defaulted,
        coalesce(soak, 0) AS soak_minutes,
        soak_raw IS NULL AS soak_defaulted,
        -- Blue-green
        coalesce(nullif(trim(bg_drain_batch_raw), ''), '10%') AS batch,
        nullif(trim(bg_drain_batch_raw), '') IS NULL AS batch_defaulted,
        coalesce(bg_drain_timeout, 30) AS bg_drain_minutes,
        coalesce(bg_batch_soak, 15) AS bg_batch_soak_minutes,
        coalesce(bg_final_soak, 60) AS bg_final_soak_minutes,
        upgrade_strategy = 'bluegreen' AS bluegreen,
        bg_final_soak_raw IS NULL AS final_soak_defaulted
    FROM ringed
),
measured AS (
    SELECT
        *,
        surge_value(surge) AS surge_n,
        surge_is_pct(surge) AS surge_pct,
        surge_value(batch) AS batch_n
    FROM shaped
),
sized AS (
    SELECT
        *,
        CASE
            -- An unreadable maxSurge (surge_n NULL) leaves both NULL.
            WHEN surge_pct THEN CAST(surge_n AS DOUBLE)
            WHEN node_count > 0 THEN surge_n * 100.0 / node_count
        END AS surge_percent,
        CASE
            WHEN NOT surge_pct THEN surge_n
            WHEN node_count IS NOT NULL THEN CAST(ceil(node_count * surge_n / 100.0) AS INTEGER)
        END AS surge_nodes
    FROM measured
),
decided AS (
    SELECT
        *,
        CASE
            WHEN pool_problem IS NOT NULL THEN 'malformed_pool'
            WHEN tags_problem IS NOT NULL THEN 'tags_unreadable'
            WHEN NOT production THEN 'not_production'
            WHEN upgrade_strategy NOT IN ('rolling', 'bluegreen') THEN 'strategy_unknown'
            WHEN bluegreen AND bluegreen_problem IS NOT NULL THEN 'bluegreen_unreadable'
            WHEN bluegreen AND (batch_n IS NULL OR batch_n = 0) THEN 'batch_unreadable'
            WHEN bluegreen AND bg_final_soak_raw IS NOT NULL AND bg_final_soak IS NULL
                THEN 'final_soak_unreadable'
            WHEN bluegreen AND bg_final_soak_minutes = 0 THEN 'no_final_soak'
            WHEN bluegreen THEN 'bluegreen'
            WHEN surge_n IS NULL THEN 'surge_unreadable'
            WHEN node_count = 0 AND NOT surge_pct THEN 'empty_pool'
            WHEN surge_percent IS NULL THEN 'pool_size_unknown'
            WHEN surge_percent >= min_pct THEN 'fast_enough'
            ELSE 'too_slow'
        END AS reason,
        'drain timeout ' || coalesce(CAST(drain_timeout AS VARCHAR), CASE WHEN drain_timeout_raw IS NULL THEN '30' END,
                                     '''' || drain_timeout_raw || ''' (unreadable)')
            || ' min' || CASE WHEN drain_defaulted THEN ' (service default)' ELSE '' END
            || ', node soak ' || coalesce(CAST(soak AS VARCHAR), CASE WHEN soak_raw IS NULL THEN '0' END,
                                          '''' || soak_raw || ''' (unreadable)')
            || ' min' || CASE WHEN soak_defaulted THEN ' (service default)' ELSE '' END AS pacing_text,
        'drainBatchSize ' || batch || CASE WHEN batch_defaulted THEN ' (service default)' ELSE '' END
            || ', drain timeout ' || bg_drain_minutes || ' min'
            || CASE WHEN bg_drain_timeout_raw IS NULL THEN ' (service default)' ELSE '' END
            || ', batch soak ' || bg_batch_soak_minutes || ' min'
            || CASE WHEN bg_batch_soak_raw IS NULL THEN ' (service default)' ELSE '' END
            || ', final soak ' || coalesce(CAST(bg_final_soak AS VARCHAR), CASE WHEN bg_final_soak_raw IS NULL THEN '60' END,
                                          '''' || bg_final_soak_raw || ''' (unreadable)')
            || ' min' || CASE WHEN final_soak_defaulted THEN ' (service default)' ELSE '' END AS bluegreen_text
    FROM sized
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    CASE reason
        WHEN 'not_production' THEN 'not_applicable'
        WHEN 'no_final_soak' THEN 'warn'
        WHEN 'bluegreen' THEN 'pass'
        WHEN 'empty_pool' THEN 'pass'
        WHEN 'fast_enough' THEN 'pass'
        WHEN 'too_slow' THEN 'fail'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'malformed_pool' THEN pool_problem || ': its upgrade settings cannot be told'
        WHEN 'tags_unreadable' THEN
            tags_problem || ': whether the cluster is in production (its ''' || ring_tag_name
            || ''' tag) cannot be told'
        WHEN 'not_production' THEN
            CASE WHEN ring IS NULL
                 THEN 'not judged as production: the cluster has no ''' || ring_tag_name || ''' tag naming a ring'
                 ELSE 'not judged as production: ring ''' || ring || ''' is not the production ring ('''
                      || production_ring || ''')' END
        WHEN 'strategy_unknown' THEN
            'upgradeStrategy ''' || upgrade_strategy_raw || ''' is neither Rolling nor BlueGreen: the pace cannot be judged'
        WHEN 'bluegreen_unreadable' THEN bluegreen_problem || ': the blue-green settings cannot be told'
        WHEN 'batch_unreadable' THEN
            'blue-green pool: drainBatchSize ''' || batch || ''' is not a non-zero count or percentage'
        WHEN 'final_soak_unreadable' THEN
            'blue-green pool: finalSoakDurationInMinutes ''' || bg_final_soak_raw || ''' is not a whole number of minutes'
        WHEN 'no_final_soak' THEN
            'production blue-green pool with no final soak (' || bluegreen_text || '): the old nodes are removed as '
            || 'soon as the last batch drains, and blue-green rollback is only possible during the final soak'
        WHEN 'bluegreen' THEN
            'production blue-green pool judged on its own settings: ' || bluegreen_text
            || ' (new nodes come up beside the old ones, so surge settings do not apply)'
        WHEN 'surge_unreadable' THEN
            'maxSurge ''' || surge || ''' is neither a node count nor a percentage: the pace cannot be judged'
        WHEN 'empty_pool' THEN
            'production pool with no nodes: maxSurge ' || surge || ' will add ' || surge_n || ' node(s) per round; '
            || pacing_text
        WHEN 'pool_size_unknown' THEN
            'maxSurge ' || surge || ' is a node count and the pool''s size is unknown: it cannot be compared with '
            || min_pct || '%'
        ELSE
            'production pool rolls with maxSurge ' || surge || CASE WHEN surge_defaulted THEN ' (service default)' ELSE '' END
            || CASE WHEN surge_pct THEN '' ELSE ' (' || round(surge_percent, 1) || '% of ' || node_count || ' nodes)' END
            || coalesce(', ' || surge_nodes || ' of ' || node_count || ' node(s) at a time', '')
            || CASE WHEN reason = 'fast_enough' THEN ', at least the ' ELSE ', below the ' END
            || min_pct || '% Microsoft recommends for production; ' || pacing_text
    END AS message,
    'ring=' || coalesce(ring, 'none') || '; count=' || coalesce(CAST(node_count AS VARCHAR), 'null')
        || '; upgradeStrategy=' || coalesce(upgrade_strategy_raw, 'absent (Rolling)')
        || CASE WHEN bluegreen
                THEN '; upgradeSettingsBlueGreen.drainBatchSize=' || coalesce(bg_drain_batch_raw, 'absent')
                     || '; finalSoakDurationInMinutes=' || coalesce(bg_final_soak_raw, 'absent')
                     || '; batchSoakDurationInMinutes=' || coalesce(bg_batch_soak_raw, 'absent')
                ELSE '; upgradeSettings.maxSurge=' || coalesce(max_surge_raw, 'absent')
                     || '; drainTimeoutInMinutes=' || coalesce(drain_timeout_raw, 'absent')
                     || '; nodeSoakDurationInMinutes=' || coalesce(soak_raw, 'absent')
                     || coalesce('; undrainableNodeBehavior=' || undrainable_node_behavior, '') END AS evidence,
    CASE WHEN reason = 'malformed_pool' THEN NULL WHEN bluegreen THEN 'bluegreen' ELSE min_pct || '%' END AS target
FROM decided;
