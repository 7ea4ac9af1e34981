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
    -- Tags as lower-cased 'name<US>value' strings: Azure tag names are case-insensitive; policy scopes match on these.
    coalesce(list_transform(map_entries(TRY_CAST(coalesce(e.payload->'$.tags', '{}'::JSON) AS MAP(VARCHAR, VARCHAR))),
                            lambda t: lower(t.key) || chr(31) || lower(coalesce(t.value, ''))), []) AS tag_pairs,
    e.payload->>'$.sku.tier'                                        AS sku_tier,
    coalesce(e.payload->>'$.properties.supportPlan', 'KubernetesOfficial') AS support_plan,
    e.payload->>'$.properties.kubernetesVersion'                    AS kubernetes_version,
    e.payload->>'$.properties.currentKubernetesVersion'             AS current_kubernetes_version,
    regexp_extract(e.payload->>'$.properties.currentKubernetesVersion', '^(\d+\.\d+)', 1) AS current_minor,
    minor_num(e.payload->>'$.properties.currentKubernetesVersion')  AS current_minor_num,
    -- LTS applies only with supportPlan AKSLongTermSupport on the Premium tier (ENUMS.md, long-term-support.md).
    lower(coalesce(e.payload->>'$.properties.supportPlan', '')) = 'akslongtermsupport'
        AND lower(coalesce(e.payload->>'$.sku.tier', '')) = 'premium' AS lts_eligible,
    -- A missing autoUpgradeProfile or channel means the service default 'none' (ENUMS.md).
    coalesce(json_type(e.payload->'$.properties.autoUpgradeProfile') = 'OBJECT', false) AS has_auto_upgrade_profile,
    e.payload->>'$.properties.autoUpgradeProfile.upgradeChannel'     AS upgrade_channel_raw,
    lower(coalesce(e.payload->>'$.properties.autoUpgradeProfile.upgradeChannel', 'none')) AS upgrade_channel,
    e.payload->>'$.properties.autoUpgradeProfile.nodeOSUpgradeChannel' AS node_os_upgrade_channel_raw,
    -- Kept NULL when absent: AKS-CHN-02 decides what a missing value means (docs/controls.md).
    lower(e.payload->>'$.properties.autoUpgradeProfile.nodeOSUpgradeChannel') AS node_os_upgrade_channel,
    coalesce(e.payload->>'$.properties.powerState.code', 'Running')  AS power_state,
    e.payload->>'$.properties.provisioningState'                    AS provisioning_state
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'cluster';
