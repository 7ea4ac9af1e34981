-- AKS-WIN-02: a cluster whose node OS patching is automated has an aksManagedNodeOSUpgradeSchedule window no
-- longer than [window_max_hours]. The legacy `default` configuration (timeInWeek) does not count.
-- `unknown` when the cluster's maintenance list was not collected (no row in maintenance_collected).
WITH judged AS (
    SELECT c.cluster_id, c.upgrade_channel, c.upgrade_channel_raw, c.node_os_upgrade_channel_raw,
           c.has_auto_upgrade_profile, cp.window_max_hours AS max_hours,
           node_os_automated(c.upgrade_channel, c.node_os_upgrade_channel, c.has_auto_upgrade_profile,
                             cp.allowed_node_os_upgrade_channels) AS automated,
           c.cluster_id IN (SELECT cluster_id FROM maintenance_collected) AS collected,
           w.name, w.form, w.duration_hours, w.defaulted, w.schedule_text,
           coalesce(s.has_legacy_default, false) AS has_legacy_default, s.names, e.error
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN maintenance_schedules w ON w.cluster_id = c.cluster_id AND w.config_key = 'aksmanagednodeosupgradeschedule'
    LEFT JOIN maintenance_summary s ON s.cluster_id = c.cluster_id
    LEFT JOIN maintenance_errors e ON e.cluster_id = c.cluster_id
),
decided AS (
    SELECT *,
        CASE
            WHEN NOT automated THEN 'not_applicable'
            WHEN NOT collected THEN 'unknown'
            -- Automation not shown (AKS-CHN-02 unknown): a window is judged when there is one, else unknown.
            WHEN automated IS NULL AND name IS NULL THEN 'unknown'
            WHEN name IS NULL OR form <> 'window' THEN 'fail'
            WHEN duration_hours > max_hours THEN 'warn'
            ELSE 'pass'
        END AS status
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    status,
    CASE
        WHEN status = 'not_applicable' THEN
            'node OS patching is not automated (nodeOSUpgradeChannel ' || coalesce(node_os_upgrade_channel_raw, 'absent')
            || '): there are no node OS updates to schedule (see AKS-CHN-02)'
        WHEN status = 'unknown' AND NOT collected THEN
            'maintenance configurations were not collected: ' || coalesce(error, 'no evidence')
        WHEN status = 'unknown' THEN
            'the node OS upgrade channel is not shown (see AKS-CHN-02) and there is no aksManagedNodeOSUpgradeSchedule'
        WHEN name IS NULL THEN
            'node OS patching is automated ('
            || CASE WHEN upgrade_channel = 'node-image' THEN 'upgradeChannel node-image'
                    ELSE 'nodeOSUpgradeChannel ' || node_os_upgrade_channel_raw END
            || ') but there is no aksManagedNodeOSUpgradeSchedule: node images may roll at any time'
            || CASE WHEN has_legacy_default THEN '; the legacy ''default'' configuration does not schedule node OS updates'
                    ELSE '' END
        WHEN form <> 'window' THEN
            name || ' has no maintenanceWindow, so it schedules nothing'
        WHEN status = 'warn' THEN
            name || ' lasts ' || duration_hours || ' hours'
            || CASE WHEN defaulted THEN ' (durationHours absent: the service default)' ELSE '' END
            || ', longer than ' || max_hours || ': ' || schedule_text
        ELSE
            'node OS updates run in ' || name || ': ' || schedule_text || ' for '
            || duration_hours || ' hours (limit ' || max_hours || ')'
    END AS message,
    CASE WHEN has_auto_upgrade_profile THEN 'nodeOSUpgradeChannel=' || coalesce(node_os_upgrade_channel_raw, 'absent')
              || '; upgradeChannel=' || coalesce(upgrade_channel_raw, 'absent')
         ELSE 'autoUpgradeProfile absent' END
        || CASE WHEN NOT automated THEN ''
                WHEN NOT collected THEN '; maintenanceConfigurations not collected'
                ELSE '; maintenanceConfigurations=[' || coalesce(names, '') || ']'
                     || coalesce('; ' || name || ' durationHours=' || duration_hours
                                 || CASE WHEN defaulted THEN ' (default)' ELSE '' END, '') END AS evidence,
    CASE WHEN status = 'fail' AND name IS NULL THEN 'add' ELSE 'update' END AS target
FROM decided;
