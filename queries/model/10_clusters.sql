-- One row per managed cluster of the scan, shaped from the raw Resource Graph row.
-- Enum values are kept as Azure sent them; controls compare them case-insensitively (lower()).
CREATE OR REPLACE TEMP TABLE clusters AS
SELECT
    e.scope                                                         AS cluster_id,
    e.payload->>'$.name'                                            AS name,
    lower(e.payload->>'$.subscriptionId')                           AS subscription_id,
    e.payload->>'$.resourceGroup'                                   AS resource_group,
    lower(e.payload->>'$.location')                                 AS location,
    coalesce(e.payload->'$.tags', '{}'::JSON)                       AS tags,
    e.payload->>'$.sku.tier'                                        AS sku_tier,
    coalesce(e.payload->>'$.properties.supportPlan', 'KubernetesOfficial') AS support_plan,
    e.payload->>'$.properties.kubernetesVersion'                    AS kubernetes_version,
    e.payload->>'$.properties.currentKubernetesVersion'             AS current_kubernetes_version,
    regexp_extract(e.payload->>'$.properties.currentKubernetesVersion', '^(\d+\.\d+)', 1) AS current_minor,
    -- A missing autoUpgradeProfile or channel means the service default 'none' (ENUMS.md).
    (e.payload->'$.properties.autoUpgradeProfile') IS NOT NULL         AS has_auto_upgrade_profile,
    e.payload->>'$.properties.autoUpgradeProfile.upgradeChannel'     AS upgrade_channel_raw,
    lower(coalesce(e.payload->>'$.properties.autoUpgradeProfile.upgradeChannel', 'none')) AS upgrade_channel,
    e.payload->>'$.properties.autoUpgradeProfile.nodeOSUpgradeChannel' AS node_os_upgrade_channel_raw,
    coalesce(e.payload->>'$.properties.powerState.code', 'Running')  AS power_state,
    e.payload->>'$.properties.provisioningState'                    AS provisioning_state
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'cluster';
