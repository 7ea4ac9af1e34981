-- `auditor export`: one row per managed cluster per scan, shaped from the raw Resource Graph rows of every
-- scan (the columns of queries/model/10_clusters.sql, for all scans at once). scan_date partitions the export.
SELECT
    e.scan_id,
    CAST(s.started_at AS DATE)                                       AS scan_date,
    s.started_at                                                     AS scan_started_at,
    e.scope                                                          AS cluster_id,
    e.payload->>'$.name'                                             AS name,
    lower(e.payload->>'$.subscriptionId')                            AS subscription_id,
    e.payload->>'$.resourceGroup'                                    AS resource_group,
    lower(e.payload->>'$.location')                                  AS location,
    CAST(coalesce(e.payload->'$.tags', '{}'::JSON) AS VARCHAR)       AS tags_json,
    e.payload->>'$.tags.environment'                                 AS environment_tag,
    e.payload->>'$.sku.tier'                                         AS sku_tier,
    coalesce(e.payload->>'$.properties.supportPlan', 'KubernetesOfficial') AS support_plan,
    e.payload->>'$.properties.kubernetesVersion'                     AS kubernetes_version,
    e.payload->>'$.properties.currentKubernetesVersion'              AS current_kubernetes_version,
    regexp_extract(e.payload->>'$.properties.currentKubernetesVersion', '^(\d+\.\d+)', 1) AS current_minor,
    lower(coalesce(e.payload->>'$.properties.autoUpgradeProfile.upgradeChannel', 'none')) AS upgrade_channel,
    e.payload->>'$.properties.autoUpgradeProfile.nodeOSUpgradeChannel' AS node_os_upgrade_channel,
    coalesce(e.payload->>'$.properties.powerState.code', 'Running')  AS power_state,
    e.payload->>'$.properties.provisioningState'                     AS provisioning_state,
    coalesce(json_array_length(e.payload->'$.properties.agentPoolProfiles'), 0) AS pools
FROM evidence e
JOIN scans s USING (scan_id)
WHERE e.kind = 'cluster'
