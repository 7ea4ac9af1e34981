-- `auditor export`: one row per agent pool per scan (the columns of queries/model/20_node_pools.sql, for all
-- scans at once), with the node image's release date and its age at the scan date.
WITH pools AS (
    SELECT e.scan_id, s.started_at, e.scope AS cluster_id,
           unnest(CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[])) AS pool
    FROM evidence e
    JOIN scans s USING (scan_id)
    WHERE e.kind = 'cluster'
)
SELECT
    scan_id,
    CAST(started_at AS DATE)                          AS scan_date,
    started_at                                        AS scan_started_at,
    cluster_id,
    pool->>'$.name'                                   AS pool_name,
    coalesce(pool->>'$.mode', 'User')                 AS mode,
    coalesce(pool->>'$.osType', 'Linux')              AS os_type,
    pool->>'$.osSKU'                                  AS os_sku,
    TRY_CAST(pool->>'$.count' AS INTEGER)             AS node_count,
    pool->>'$.vmSize'                                 AS vm_size,
    pool->>'$.orchestratorVersion'                    AS orchestrator_version,
    pool->>'$.currentOrchestratorVersion'             AS current_orchestrator_version,
    regexp_extract(coalesce(pool->>'$.currentOrchestratorVersion', pool->>'$.orchestratorVersion'),
                   '^(\d+\.\d+)', 1)                  AS current_minor,
    pool->>'$.nodeImageVersion'                       AS node_image_version,
    node_image_family(pool->>'$.nodeImageVersion')    AS image_family,
    node_image_date(pool->>'$.nodeImageVersion')      AS image_date,
    date_diff('day', node_image_date(pool->>'$.nodeImageVersion'), CAST(started_at AS DATE)) AS image_age_days,
    pool->>'$.provisioningState'                      AS provisioning_state,
    pool->>'$.powerState.code'                        AS power_state,
    pool->>'$.upgradeSettings.maxSurge'               AS max_surge,
    pool->>'$.upgradeSettings.maxUnavailable'         AS max_unavailable
FROM pools
