-- AKS-CHN-02: node OS patching is automated: nodeOSUpgradeChannel in [allowed_node_os_upgrade_channels], or
-- upgradeChannel node-image (which forces NodeImage). Enum values compare case-insensitively; an empty string reads
-- as None. A missing nodeOSUpgradeChannel is not read as the spec default NodeImage: that default applies to clusters
-- created with API 2023-06-01 or later (auto-upgrade-node-os-image.md), older clusters default to None, and the
-- payload cannot tell them apart.
--   * autoUpgradeProfile present without nodeOSUpgradeChannel -> unknown (the evidence does not show the value);
--   * no autoUpgradeProfile at all -> fail (nothing configures node OS patching; as AKS-CHN-01 reads it: none);
--   * autoUpgradeProfile or a channel of the wrong JSON type -> unknown, saying what was wrong.
-- A Fleet Manager member covered by an enabled NodeImage auto-upgrade profile gets its node images from Fleet's update
-- runs (docs/fleet.md): automated, whatever its own node OS channel says.
-- The status is decided once (`reason`), then worded.
WITH judged AS (
    SELECT c.*, cp.allowed_node_os_upgrade_channels AS allowed, f.node_image_profiles,
           coalesce(c.node_os_problem, c.channel_problem) AS profile_problem,
           node_os_automated(c.upgrade_channel, c.node_os_upgrade_channel, c.has_auto_upgrade_profile,
                             cp.allowed_node_os_upgrade_channels) AS automated
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN fleet_cluster_authority f ON f.cluster_key = lower(c.cluster_id)
),
decided AS (
    SELECT *,
        CASE
            WHEN profile_problem IS NOT NULL THEN 'malformed'
            WHEN upgrade_channel = 'node-image' AND automated THEN 'forced_node_image'
            WHEN node_image_profiles IS NOT NULL AND NOT coalesce(automated, false) THEN 'by_fleet'
            WHEN upgrade_channel = 'node-image' THEN 'forced_node_image_not_allowed'
            WHEN automated THEN 'automated'
            WHEN node_os_upgrade_channel = 'none' THEN 'none'
            WHEN node_os_upgrade_channel = 'unmanaged' THEN 'unmanaged'
            WHEN node_os_upgrade_channel IS NOT NULL THEN 'not_allowed'
            WHEN has_auto_upgrade_profile THEN 'not_shown'
            ELSE 'no_profile'
        END AS reason
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'forced_node_image' THEN 'pass'
        WHEN 'automated' THEN 'pass'
        WHEN 'by_fleet' THEN 'pass'
        WHEN 'malformed' THEN 'unknown'
        WHEN 'not_shown' THEN 'unknown'
        ELSE 'fail'
    END AS status,
    CASE reason
        WHEN 'malformed' THEN profile_problem
        WHEN 'forced_node_image' THEN
            'upgradeChannel node-image patches nodes with new node images (it forces nodeOSUpgradeChannel NodeImage)'
        WHEN 'forced_node_image_not_allowed' THEN
            'upgradeChannel node-image forces nodeOSUpgradeChannel NodeImage, which is not allowed (allowed: '
            || array_to_string(allowed, ', ') || ')'
        WHEN 'automated' THEN 'node OS upgrade channel is ' || node_os_upgrade_channel_raw
        WHEN 'by_fleet' THEN
            'node images are updated by Fleet Manager auto-upgrade profile ' || node_image_profiles
            || '; the cluster''s own node OS channel is ' || coalesce(node_os_upgrade_channel_raw, 'absent')
            || ', as Fleet Manager recommends for its members'
        WHEN 'none' THEN
            'node OS upgrade channel is ' || coalesce(nullif(trim(node_os_upgrade_channel_raw), ''), 'an empty string, read as None')
            || ': nodes get no OS security updates automatically'
        WHEN 'unmanaged' THEN
            'node OS upgrade channel is ' || node_os_upgrade_channel_raw || ': updates come from the OS''s own patching '
            || '(nightly on Linux, never on Windows), outside AKS testing and maintenance windows'
        WHEN 'not_allowed' THEN
            'node OS upgrade channel ' || node_os_upgrade_channel_raw || ' is not allowed (allowed: '
            || array_to_string(allowed, ', ') || ')'
        WHEN 'not_shown' THEN
            'autoUpgradeProfile has no nodeOSUpgradeChannel: the payload does not show how node OS patching is set '
            || '(the default is NodeImage only for clusters created with API 2023-06-01 or later, None before)'
        ELSE
            'no autoUpgradeProfile: neither a node OS upgrade channel nor an upgrade channel is set, '
            || 'so node OS patching is not automated'
    END AS message,
    CASE WHEN has_auto_upgrade_profile THEN
        'autoUpgradeProfile.nodeOSUpgradeChannel=' || coalesce('''' || node_os_upgrade_channel_raw || '''', 'absent')
        || '; autoUpgradeProfile.upgradeChannel=' || coalesce('''' || upgrade_channel_raw || '''', 'absent')
    ELSE coalesce(profile_problem, 'autoUpgradeProfile absent') END || coalesce('; Fleet profiles=' || node_image_profiles, '') AS evidence,
    NULL AS target
FROM decided;
