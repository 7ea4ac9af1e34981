-- `auditor export`: one row per managed cluster per scan, shaped from the raw Resource Graph rows of every
-- scan (the columns of queries/model/10_clusters.sql, for all scans at once). $scan_ids: the scans of one partition.
-- Each payload is parsed once: json_extract_string with a list of paths returns the values in that order.
WITH c AS (
    SELECT
        e.scan_id,
        s.started_at,
        e.scope AS cluster_id,
        json_extract_string(e.payload, [
            '$.name',                                              -- 1
            '$.subscriptionId',                                    -- 2
            '$.resourceGroup',                                     -- 3
            '$.location',                                          -- 4
            '$.tags.environment',                                  -- 5
            '$.sku.tier',                                          -- 6
            '$.properties.supportPlan',                            -- 7
            '$.properties.kubernetesVersion',                      -- 8
            '$.properties.currentKubernetesVersion',               -- 9
            '$.properties.autoUpgradeProfile.upgradeChannel',      -- 10
            '$.properties.autoUpgradeProfile.nodeOSUpgradeChannel', -- 11
            '$.properties.powerState.code',                        -- 12
            '$.properties.provisioningState'                       -- 13
        ]) AS v,
        json_extract(e.payload, ['$.tags', '$.properties.agentPoolProfiles']) AS j
    FROM evidence e
    JOIN scans s USING (scan_id)
    WHERE e.kind = 'cluster' AND e.scan_id IN (SELECT unnest($scan_ids))
)
SELECT
    scan_id,
    started_at                                                AS scan_started_at,
    cluster_id,
    v[1]                                                      AS name,
    lower(v[2])                                               AS subscription_id,
    v[3]                                                      AS resource_group,
    lower(v[4])                                               AS location,
    CASE WHEN json_type(j[1]) = 'OBJECT' THEN CAST(j[1] AS VARCHAR) ELSE '{}' END AS tags_json,
    v[5]                                                      AS environment_tag,
    v[6]                                                      AS sku_tier,
    coalesce(v[7], 'KubernetesOfficial')                      AS support_plan,
    v[8]                                                      AS kubernetes_version,
    v[9]                                                      AS current_kubernetes_version,
    regexp_extract(v[9], '^(\d+\.\d+)', 1)                    AS current_minor,
    lower(coalesce(v[10], 'none'))                            AS upgrade_channel,
    v[11]                                                     AS node_os_upgrade_channel,
    coalesce(v[12], 'Running')                                AS power_state,
    v[13]                                                     AS provisioning_state,
    CASE WHEN json_type(j[2]) = 'ARRAY' THEN json_array_length(j[2]) ELSE 0 END AS pools
FROM c
