-- AKS-CHN-02: node OS patching is automated: nodeOSUpgradeChannel in [allowed_node_os_upgrade_channels], or
-- upgradeChannel node-image (which forces NodeImage). Enum values compare case-insensitively.
-- A missing nodeOSUpgradeChannel is not read as the spec default NodeImage: that default applies to clusters created
-- with API 2022-06-01 or later, older clusters default to None, and the payload cannot tell them apart.
--   * autoUpgradeProfile present without nodeOSUpgradeChannel -> unknown (the evidence does not show the value);
--   * no autoUpgradeProfile at all -> fail (nothing configures node OS patching; as AKS-CHN-01 reads it: none).
-- A Fleet Manager member covered by an enabled NodeImage auto-upgrade profile gets its node images from Fleet's update
-- runs (docs/fleet.md): automated, whatever its own node OS channel says.
WITH judged AS (
    SELECT c.*, cp.allowed_node_os_upgrade_channels AS allowed, f.node_image_profiles,
           CASE WHEN f.node_image_profiles IS NOT NULL THEN true
                ELSE node_os_automated(c.upgrade_channel, c.node_os_upgrade_channel, c.has_auto_upgrade_profile,
                                       cp.allowed_node_os_upgrade_channels) END AS automated,
           f.node_image_profiles IS NOT NULL
               AND NOT coalesce(node_os_automated(c.upgrade_channel, c.node_os_upgrade_channel,
                                                  c.has_auto_upgrade_profile, cp.allowed_node_os_upgrade_channels),
                                false) AS by_fleet
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN fleet_cluster_authority f ON f.cluster_key = lower(c.cluster_id)
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE WHEN automated THEN 'pass' WHEN NOT automated THEN 'fail' ELSE 'unknown' END AS status,
    CASE
        WHEN by_fleet THEN
            'node images are updated by Fleet Manager auto-upgrade profile ' || node_image_profiles
            || '; the cluster''s own node OS channel is ' || coalesce(node_os_upgrade_channel_raw, 'absent')
            || ', as Fleet Manager recommends for its members'
        WHEN upgrade_channel = 'node-image' AND automated THEN
            'upgradeChannel node-image patches nodes with new node images (it forces nodeOSUpgradeChannel NodeImage)'
        WHEN upgrade_channel = 'node-image' THEN
            'upgradeChannel node-image forces nodeOSUpgradeChannel NodeImage, which is not allowed (allowed: '
            || array_to_string(allowed, ', ') || ')'
        WHEN automated THEN
            'node OS upgrade channel is ' || node_os_upgrade_channel_raw
        WHEN node_os_upgrade_channel = 'none' THEN
            'node OS upgrade channel is ' || node_os_upgrade_channel_raw || ': nodes get no OS security updates automatically'
        WHEN node_os_upgrade_channel = 'unmanaged' THEN
            'node OS upgrade channel is ' || node_os_upgrade_channel_raw || ': updates come from the OS''s own patching '
            || '(nightly on Linux, never on Windows), outside AKS testing and maintenance windows'
        WHEN node_os_upgrade_channel IS NOT NULL THEN
            'node OS upgrade channel ' || node_os_upgrade_channel_raw || ' is not allowed (allowed: '
            || array_to_string(allowed, ', ') || ')'
        WHEN has_auto_upgrade_profile THEN
            'autoUpgradeProfile has no nodeOSUpgradeChannel: the payload does not show how node OS patching is set '
            || '(the default is NodeImage only for clusters created with API 2022-06-01 or later, None before)'
        ELSE
            'no autoUpgradeProfile: neither a node OS upgrade channel nor an upgrade channel is set, '
            || 'so node OS patching is not automated'
    END AS message,
    CASE WHEN has_auto_upgrade_profile THEN
        'autoUpgradeProfile.nodeOSUpgradeChannel=' || coalesce(node_os_upgrade_channel_raw, 'absent')
        || '; autoUpgradeProfile.upgradeChannel=' || coalesce(upgrade_channel_raw, 'absent')
    ELSE 'autoUpgradeProfile absent' END || coalesce('; Fleet profiles=' || node_image_profiles, '') AS evidence,
    NULL AS target
FROM judged;
