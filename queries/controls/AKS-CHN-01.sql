-- AKS-CHN-01: an allowed auto-upgrade channel is set. The wire value is lower-case; compare case-insensitively anyway.
-- A Fleet Manager member covered by an enabled Kubernetes auto-upgrade profile is upgraded by Fleet (docs/fleet.md),
-- as Microsoft recommends with the cluster's own channel none: the profile's channel counts (Stable -> stable,
-- Rapid -> rapid, TargetKubernetesVersion -> patch).
SELECT
    c.cluster_id AS resource_id,
    NULL AS node_pool,
    CASE
        WHEN list_contains(cp.allowed_upgrade_channels, c.upgrade_channel) THEN 'pass'
        WHEN list_has_any(cp.allowed_upgrade_channels, f.kubernetes_channels) THEN 'pass'
        WHEN c.upgrade_channel = 'node-image' THEN 'warn'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN list_contains(cp.allowed_upgrade_channels, c.upgrade_channel) THEN
            'auto-upgrade channel is ' || c.upgrade_channel
        WHEN list_has_any(cp.allowed_upgrade_channels, f.kubernetes_channels) THEN
            'upgraded by Fleet Manager auto-upgrade profile ' || f.kubernetes_profiles || '; the cluster''s own channel is '
            || c.upgrade_channel || ', as Fleet Manager recommends for its members'
        WHEN c.upgrade_channel = 'node-image' THEN
            'auto-upgrade channel is node-image: nodes are patched but Kubernetes is never upgraded'
        WHEN c.upgrade_channel_raw IS NULL THEN
            'no auto-upgrade channel is set (service default none)'
        ELSE 'auto-upgrade channel ' || c.upgrade_channel || ' is not allowed (allowed: '
             || array_to_string(cp.allowed_upgrade_channels, ', ') || ')'
    END AS message,
    'autoUpgradeProfile.upgradeChannel=' || coalesce(c.upgrade_channel_raw, 'absent')
        || coalesce('; Fleet profiles=' || f.kubernetes_profiles, '') AS evidence,
    NULL AS target
FROM clusters c
JOIN cluster_params cp USING (cluster_id)
LEFT JOIN fleet_cluster_authority f ON f.cluster_key = lower(c.cluster_id);
