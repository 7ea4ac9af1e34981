-- `auditor export`: one row per agent pool per scan (the columns of queries/model/20_node_pools.sql, for all
-- scans at once), with the node image's release date and its age at the scan date. The payloads are read as
-- queries/shape/clusters.sql parses them; each pool is parsed once.
WITH pools AS (
    SELECT c.scan_id, s.started_at, c.cluster_id, unnest(CAST(c.pools_json AS JSON[])) AS pool
    FROM shaped_clusters($scan_ids) c
    JOIN scans s USING (scan_id)
    -- Only a list can be unnested: a malformed payload (docs/controls.md, "Malformed evidence") exports no pools.
    WHERE c.pools_type = 'ARRAY'
),
p AS (
    SELECT scan_id, started_at, cluster_id,
           json_extract_string(pool, [
               '$.name',                          -- 1
               '$.mode',                          -- 2
               '$.osType',                        -- 3
               '$.osSKU',                         -- 4
               '$.count',                         -- 5
               '$.vmSize',                        -- 6
               '$.orchestratorVersion',           -- 7
               '$.currentOrchestratorVersion',    -- 8
               '$.nodeImageVersion',              -- 9
               '$.provisioningState',             -- 10
               '$.powerState.code',               -- 11
               '$.upgradeSettings.maxSurge',      -- 12
               '$.upgradeSettings.maxUnavailable' -- 13
           ]) AS v
    FROM pools
),
q AS (
    SELECT *, node_image_family(v[9]) AS family, node_image_date(v[9]) AS released FROM p
)
SELECT
    scan_id,
    started_at                                                  AS scan_started_at,
    cluster_id,
    v[1]                                                        AS pool_name,
    coalesce(v[2], 'User')                                      AS mode,
    coalesce(v[3], 'Linux')                                     AS os_type,
    v[4]                                                        AS os_sku,
    TRY_CAST(v[5] AS INTEGER)                                   AS node_count,
    v[6]                                                        AS vm_size,
    v[7]                                                        AS orchestrator_version,
    v[8]                                                        AS current_orchestrator_version,
    regexp_extract(coalesce(v[8], v[7]), '^(\d+\.\d+)', 1)      AS current_minor,
    v[9]                                                        AS node_image_version,
    family                                                      AS image_family,
    released                                                    AS image_date,
    date_diff('day', released, CAST(started_at AS DATE))        AS image_age_days,
    v[10]                                                       AS provisioning_state,
    v[11]                                                       AS power_state,
    v[12]                                                       AS max_surge,
    v[13]                                                       AS max_unavailable
FROM q
