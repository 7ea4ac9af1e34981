-- AKS-CHN-01: an allowed auto-upgrade channel is set. The wire value is lower-case; compare case-insensitively anyway.
-- A missing profile or channel, and an empty string, read as `none` (clusters.upgrade_channel). LTS clusters
-- (supportPlan AKSLongTermSupport on Premium) are told to use `patch`: `stable` and `rapid` move a cluster to a newer
-- minor, off the LTS minor it was put on (long-term-support.md, auto-upgrade-cluster.md).
-- A Fleet Manager member covered by an enabled Kubernetes auto-upgrade profile is upgraded by Fleet (docs/fleet.md),
-- as Microsoft recommends with the cluster's own channel none: the profile's channel counts (Stable -> stable,
-- Rapid -> rapid, TargetKubernetesVersion -> patch).
-- The status is decided once (`reason`), then worded.
WITH decided AS (
    SELECT c.*, cp.allowed_upgrade_channels AS allowed, f.kubernetes_profiles,
        CASE
            WHEN c.channel_problem IS NOT NULL THEN 'malformed'
            WHEN list_contains(cp.allowed_upgrade_channels, c.upgrade_channel) THEN 'allowed'
            WHEN list_has_any(cp.allowed_upgrade_channels, f.kubernetes_channels) THEN 'by_fleet'
            WHEN c.upgrade_channel = 'node-image' THEN 'node_image'
            WHEN c.upgrade_channel = 'none' THEN 'none'
            ELSE 'not_allowed'
        END AS reason
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN fleet_cluster_authority f ON f.cluster_key = lower(c.cluster_id)
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'allowed' THEN 'pass'
        WHEN 'by_fleet' THEN 'pass'
        WHEN 'node_image' THEN 'warn'
        WHEN 'malformed' THEN 'unknown'
        ELSE 'fail'
    END AS status,
    CASE reason
        WHEN 'malformed' THEN channel_problem
        WHEN 'allowed' THEN
            'auto-upgrade channel is ' || upgrade_channel
            || CASE WHEN lts_eligible AND upgrade_channel IN ('stable', 'rapid')
                    THEN ' (the cluster is on LTS: ' || upgrade_channel || ' moves it to a newer minor, off its LTS '
                         || 'minor; LTS clusters normally use patch)' ELSE '' END
        WHEN 'by_fleet' THEN
            'upgraded by Fleet Manager auto-upgrade profile ' || kubernetes_profiles || '; the cluster''s own channel is '
            || upgrade_channel || ', as Fleet Manager recommends for its members'
        WHEN 'node_image' THEN 'auto-upgrade channel is node-image: nodes are patched but Kubernetes is never upgraded'
        WHEN 'none' THEN
            CASE WHEN upgrade_channel_raw IS NULL THEN 'no auto-upgrade channel is set (service default none)'
                 WHEN trim(upgrade_channel_raw) = '' THEN 'the auto-upgrade channel is an empty string, which means none'
                 ELSE 'auto-upgrade channel is none' END
            || ': Kubernetes is never upgraded automatically'
        ELSE 'auto-upgrade channel ' || upgrade_channel || ' is not allowed (allowed: '
             || array_to_string(allowed, ', ') || ')'
    END AS message,
    'autoUpgradeProfile.upgradeChannel=' || coalesce('''' || upgrade_channel_raw || '''', 'absent')
        || '; supportPlan=' || coalesce(support_plan, 'unreadable') || '; tier=' || coalesce(sku_tier, 'null')
        || coalesce('; Fleet profiles=' || kubernetes_profiles, '') AS evidence,
    -- The channel to set: patch keeps an LTS cluster on its minor; stable otherwise.
    CASE WHEN lts_eligible THEN 'patch' ELSE 'stable' END AS target
FROM decided;
