-- Each managed-cluster payload of the given scans parsed once: every field a reader of the cluster evidence uses,
-- as named columns (the raw text, and the JSON type where a reader must tell a wrong type from an absent value).
-- Its readers: queries/model/08_cluster_payloads.sql keeps one scan's rows as a table that the model's files read,
-- instead of each file parsing the payloads again; the export (queries/export/clusters.sql, pools.sql) reads the
-- scans of one partition; the ledger's fold (queries/history/fold_scan.sql) keeps the scan it folds as fold_clusters;
-- the period's inventory (queries/period/10_inventory.sql) and the library (queries/library/completeness.sql,
-- earlier_clusters.sql) read it too. Its pools are unnested and parsed by queries/shape/pools.sql (shaped_pools).
-- json_type / json_extract_string / json_extract with a list of paths parse a payload once and give the values in
-- the order of the paths.
CREATE OR REPLACE TEMP MACRO shaped_clusters(scan_ids) AS TABLE
WITH parsed AS (
    SELECT
        e.scan_id,
        e.seq,
        e.scope,
        json_type(e.payload, [
            '$.name',                                                   -- 1
            '$.tags',                                                   -- 2
            '$.properties',                                             -- 3
            '$.properties.supportPlan',                                 -- 4
            '$.properties.currentKubernetesVersion',                    -- 5
            '$.properties.kubernetesVersion',                           -- 6
            '$.properties.autoUpgradeProfile',                          -- 7
            '$.properties.autoUpgradeProfile.upgradeChannel',           -- 8
            '$.properties.autoUpgradeProfile.nodeOSUpgradeChannel',     -- 9
            '$.properties.agentPoolProfiles',                           -- 10
            '$.properties.provisioningState',                           -- 11
            '$.properties.upgradeSettings',                             -- 12
            '$.properties.upgradeSettings.overrideSettings',            -- 13
            '$.properties.upgradeSettings.overrideSettings.forceUpgrade' -- 14
        ]) AS t,
        json_extract_string(e.payload, [
            '$.name',                                                   -- 1
            '$.subscriptionId',                                         -- 2
            '$.resourceGroup',                                          -- 3
            '$.location',                                               -- 4
            '$.sku.tier',                                               -- 5
            '$.properties.supportPlan',                                 -- 6
            '$.properties.currentKubernetesVersion',                    -- 7
            '$.properties.kubernetesVersion',                           -- 8
            '$.properties.autoUpgradeProfile.upgradeChannel',           -- 9
            '$.properties.autoUpgradeProfile.nodeOSUpgradeChannel',     -- 10
            '$.properties.powerState.code',                             -- 11
            '$.properties.provisioningState',                           -- 12
            '$.sku.name',                                               -- 13
            '$.properties.nodeProvisioningProfile.mode',                -- 14
            '$.properties.upgradeSettings.overrideSettings.forceUpgrade', -- 15
            '$.properties.upgradeSettings.overrideSettings.until',      -- 16
            '$.tags.environment'                                        -- 17
        ]) AS v,
        json_extract(e.payload, [
            '$.tags',                                                   -- 1
            '$.properties.agentPoolProfiles',                           -- 2
            '$.properties.hostedSystemProfile.enabled'                  -- 3
        ]) AS j
    FROM evidence e
    WHERE e.kind = 'cluster' AND list_contains(scan_ids, e.scan_id)
)
SELECT
    scan_id,
    seq,
    scope                   AS cluster_id,
    t[1]                    AS name_type,
    t[2]                    AS tags_type,
    t[3]                    AS properties_type,
    t[4]                    AS support_plan_type,
    t[5]                    AS current_version_type,
    t[6]                    AS requested_version_type,
    t[7]                    AS profile_type,
    t[8]                    AS channel_type,
    t[9]                    AS node_os_type,
    t[10]                   AS pools_type,
    t[11]                   AS state_type,
    t[12]                   AS upgrade_settings_type,
    t[13]                   AS override_settings_type,
    t[14]                   AS force_upgrade_type,
    v[1]                    AS name_text,
    v[2]                    AS subscription_text,
    v[3]                    AS group_text,
    v[4]                    AS location_text,
    v[5]                    AS tier_text,
    v[6]                    AS support_plan_text,
    v[7]                    AS current_version_text,
    v[8]                    AS requested_version_text,
    v[9]                    AS channel_text,
    v[10]                   AS node_os_text,
    v[11]                   AS power_text,
    v[12]                   AS state_text,
    v[13]                   AS sku_name_text,
    v[14]                   AS node_provisioning_mode_text,
    v[15]                   AS force_upgrade_text,
    v[16]                   AS override_until_text,
    v[17]                   AS environment_text,
    j[1]                    AS tags_json,
    j[2]                    AS pools_json,
    j[3]                    AS hosted_system_enabled_json
FROM parsed;
