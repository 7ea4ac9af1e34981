-- One row per agent pool, unnested from the cluster row. upgradeSettings keys stay NULL when absent:
-- absent means the service default, which the controls apply explicitly.
CREATE OR REPLACE TEMP TABLE node_pools AS
WITH pools AS (
    SELECT e.scope AS cluster_id, unnest(CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[])) AS pool
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'cluster'
)
SELECT
    cluster_id,
    pool->>'$.name'                                   AS pool_name,
    TRY_CAST(pool->>'$.count' AS INTEGER)             AS node_count,
    coalesce(pool->>'$.mode', 'User')                 AS mode,
    coalesce(pool->>'$.osType', 'Linux')              AS os_type,
    pool->>'$.osSKU'                                  AS os_sku,
    pool->>'$.orchestratorVersion'                    AS orchestrator_version,
    pool->>'$.currentOrchestratorVersion'             AS current_orchestrator_version,
    regexp_extract(coalesce(pool->>'$.currentOrchestratorVersion', pool->>'$.orchestratorVersion'),
                   '^(\d+\.\d+)', 1)                  AS current_minor,
    minor_num(coalesce(pool->>'$.currentOrchestratorVersion', pool->>'$.orchestratorVersion')) AS current_minor_num,
    pool->>'$.nodeImageVersion'                       AS node_image_version,
    node_image_family(pool->>'$.nodeImageVersion')    AS image_family,
    node_image_date(pool->>'$.nodeImageVersion')      AS image_date,
    pool->>'$.provisioningState'                      AS provisioning_state,
    pool->>'$.powerState.code'                        AS power_state,
    pool->>'$.upgradeSettings.maxSurge'               AS max_surge,
    pool->>'$.upgradeSettings.maxUnavailable'         AS max_unavailable,
    coalesce(json_type(pool->'$.upgradeSettings') = 'OBJECT', false) AS has_upgrade_settings,
    -- NULL when absent: the service defaults are 30 and 0 minutes (ENUMS.md); AKS-WIN-06 applies them.
    TRY_CAST(pool->>'$.upgradeSettings.drainTimeoutInMinutes' AS INTEGER)     AS drain_timeout_minutes,
    TRY_CAST(pool->>'$.upgradeSettings.nodeSoakDurationInMinutes' AS INTEGER) AS soak_minutes
FROM pools;
