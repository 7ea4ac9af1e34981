-- AKS-CHN-01: an allowed auto-upgrade channel is set. The wire value is lower-case; compare case-insensitively anyway.
SELECT
    c.cluster_id AS resource_id,
    NULL AS node_pool,
    CASE
        WHEN list_contains(cp.allowed_upgrade_channels, c.upgrade_channel) THEN 'pass'
        WHEN c.upgrade_channel = 'node-image' THEN 'warn'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN list_contains(cp.allowed_upgrade_channels, c.upgrade_channel) THEN
            'auto-upgrade channel is ' || c.upgrade_channel
        WHEN c.upgrade_channel = 'node-image' THEN
            'auto-upgrade channel is node-image: nodes are patched but Kubernetes is never upgraded'
        WHEN c.upgrade_channel_raw IS NULL THEN
            'no auto-upgrade channel is set (service default none)'
        ELSE 'auto-upgrade channel ' || c.upgrade_channel || ' is not allowed (allowed: '
             || array_to_string(cp.allowed_upgrade_channels, ', ') || ')'
    END AS message,
    'autoUpgradeProfile.upgradeChannel=' || coalesce(c.upgrade_channel_raw, 'absent') AS evidence,
    NULL AS target
FROM clusters c
JOIN cluster_params cp USING (cluster_id);
