-- What AKS-OS-01, AKS-UPG-01 (and AKS-SRG-01, for the strategy) read about each agent pool, one row per entry of
-- agentPoolProfiles: its type, OS, upgrade strategy and the upgrade settings of both strategies. Raw values are kept
-- beside the parsed ones, so a value that is present but unreadable is `unknown`, never a service default.
-- Service defaults (ENUMS.md, AgentPoolUpgradeSettings / AgentPoolBlueGreenUpgradeSettings): type
-- VirtualMachineScaleSets, upgradeStrategy Rolling, maxSurge 10%, maxUnavailable 0, drainTimeoutInMinutes 30,
-- nodeSoakDurationInMinutes 0; blue-green drainBatchSize 10%, drainTimeoutInMinutes 30,
-- batchSoakDurationInMinutes 15, finalSoakDurationInMinutes 60. The controls apply them, and say so.
-- A pool without a name is labelled `agentPoolProfiles[i]` (0-based), as queries/model/20_node_pools.sql does.
CREATE OR REPLACE TEMP TABLE pool_rollout AS
WITH entries AS (
    SELECT
        e.scope AS cluster_id,
        unnest(CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[])) AS pool,
        generate_subscripts(CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[]), 1) - 1 AS pool_index
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'cluster'
      AND json_type(e.payload, '$.properties.agentPoolProfiles') = 'ARRAY'
),
typed AS (
    SELECT
        cluster_id,
        pool_index,
        CASE WHEN json_type(pool) = 'OBJECT' THEN pool END AS p,
        CASE WHEN json_type(pool) = 'OBJECT' AND json_type(pool, '$.name') = 'VARCHAR'
             THEN nullif(trim(pool->>'$.name'), '') END AS named,
        CASE WHEN json_type(pool) = 'OBJECT' AND json_type(pool, '$.upgradeSettings') = 'OBJECT'
             THEN pool->'$.upgradeSettings' END AS rolling,
        CASE WHEN json_type(pool) = 'OBJECT' AND json_type(pool, '$.upgradeSettingsBlueGreen') = 'OBJECT'
             THEN pool->'$.upgradeSettingsBlueGreen' END AS bluegreen
    FROM entries
)
SELECT
    cluster_id,
    pool_index,
    coalesce(named, 'agentPoolProfiles[' || pool_index || ']')       AS pool_name,
    p IS NOT NULL                                                    AS readable,
    TRY_CAST(p->>'$.count' AS INTEGER)                               AS node_count,
    coalesce(p->>'$.mode', 'User')                                   AS mode,
    coalesce(p->>'$.osType', 'Linux')                                AS os_type,
    p->>'$.osSKU'                                                    AS os_sku,
    p->>'$.type'                                                     AS pool_type_raw,
    coalesce(p->>'$.type', 'VirtualMachineScaleSets')                AS pool_type,
    p->>'$.nodeImageVersion'                                         AS node_image_version,
    node_image_family(p->>'$.nodeImageVersion')                      AS image_family,
    coalesce(p->>'$.currentOrchestratorVersion', p->>'$.orchestratorVersion') AS pool_version,
    p->>'$.upgradeStrategy'                                          AS upgrade_strategy_raw,
    lower(coalesce(nullif(trim(p->>'$.upgradeStrategy'), ''), 'Rolling')) AS upgrade_strategy,
    rolling->>'$.maxSurge'                                           AS max_surge_raw,
    rolling->>'$.maxUnavailable'                                     AS max_unavailable_raw,
    rolling->>'$.drainTimeoutInMinutes'                              AS drain_timeout_raw,
    TRY_CAST(rolling->>'$.drainTimeoutInMinutes' AS INTEGER)         AS drain_timeout,
    rolling->>'$.nodeSoakDurationInMinutes'                          AS soak_raw,
    TRY_CAST(rolling->>'$.nodeSoakDurationInMinutes' AS INTEGER)     AS soak,
    rolling->>'$.undrainableNodeBehavior'                            AS undrainable_node_behavior,
    bluegreen IS NOT NULL                                            AS has_bluegreen_settings,
    bluegreen->>'$.drainBatchSize'                                   AS bg_drain_batch_raw,
    bluegreen->>'$.drainTimeoutInMinutes'                            AS bg_drain_timeout_raw,
    TRY_CAST(bluegreen->>'$.drainTimeoutInMinutes' AS INTEGER)       AS bg_drain_timeout,
    bluegreen->>'$.batchSoakDurationInMinutes'                       AS bg_batch_soak_raw,
    TRY_CAST(bluegreen->>'$.batchSoakDurationInMinutes' AS INTEGER)  AS bg_batch_soak,
    bluegreen->>'$.finalSoakDurationInMinutes'                       AS bg_final_soak_raw,
    TRY_CAST(bluegreen->>'$.finalSoakDurationInMinutes' AS INTEGER)  AS bg_final_soak
FROM typed;
