-- AKS-WIN-02: a cluster whose node OS patching is automated has an aksManagedNodeOSUpgradeSchedule window no
-- longer than [window_max_hours]. The legacy `default` configuration (timeInWeek) does not count.
-- `unknown` when the cluster's maintenance list was not collected (no row in maintenance_collected) or cannot be read,
-- when the window itself is malformed (no schedule, an unknown schedule form, durationHours outside 4..24), or when the
-- cluster's autoUpgradeProfile is. Whether a well-formed window ever takes effect is AKS-WIN-03's question.
-- The status is decided once (`reason`), then worded.
WITH judged AS (
    SELECT c.cluster_id, c.upgrade_channel, c.upgrade_channel_raw, c.node_os_upgrade_channel_raw,
           coalesce(c.node_os_problem, c.channel_problem) AS profile_problem,
           c.has_auto_upgrade_profile, cp.window_max_hours AS max_hours,
           node_os_automated(c.upgrade_channel, c.node_os_upgrade_channel, c.has_auto_upgrade_profile,
                             cp.allowed_node_os_upgrade_channels) AS automated,
           c.cluster_id IN (SELECT cluster_id FROM maintenance_collected) AS collected,
           w.name, w.form, w.duration_hours, w.defaulted, w.schedule_text, w.problem AS window_problem,
           coalesce(s.has_legacy_default, false) AS has_legacy_default, s.names, e.error, lp.problem AS list_problem
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN maintenance_schedules w ON w.cluster_id = c.cluster_id AND w.config_key = 'aksmanagednodeosupgradeschedule'
    LEFT JOIN maintenance_summary s ON s.cluster_id = c.cluster_id
    LEFT JOIN maintenance_errors e ON e.cluster_id = c.cluster_id
    LEFT JOIN maintenance_list_problem lp ON lp.cluster_id = c.cluster_id
),
decided AS (
    SELECT *,
        CASE
            WHEN profile_problem IS NOT NULL THEN 'malformed_cluster'
            WHEN NOT automated THEN 'not_automated'
            WHEN NOT collected THEN 'not_collected'
            WHEN list_problem IS NOT NULL THEN 'malformed_list'
            -- Automation not shown (AKS-CHN-02 unknown): a window is judged when there is one, else unknown.
            WHEN automated IS NULL AND name IS NULL THEN 'not_shown'
            WHEN name IS NULL THEN 'missing'
            WHEN form <> 'window' AND window_problem IS NULL THEN 'no_window'
            WHEN window_problem IS NOT NULL THEN 'malformed_window'
            WHEN duration_hours > max_hours THEN 'too_long'
            ELSE 'ok'
        END AS reason
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'ok' THEN 'pass'
        WHEN 'too_long' THEN 'warn'
        WHEN 'missing' THEN 'fail'
        WHEN 'no_window' THEN 'fail'
        WHEN 'not_automated' THEN 'not_applicable'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'malformed_cluster' THEN profile_problem || ': how node OS patching is set cannot be read'
        WHEN 'not_automated' THEN
            'node OS patching is not automated (nodeOSUpgradeChannel '
            || coalesce(nullif(trim(node_os_upgrade_channel_raw), ''), CASE WHEN node_os_upgrade_channel_raw IS NULL
                        THEN 'absent' ELSE 'an empty string, read as None' END)
            || '): there are no node OS updates to schedule (see AKS-CHN-02)'
        WHEN 'not_collected' THEN 'maintenance configurations were not collected: ' || coalesce(error, 'no evidence')
        WHEN 'malformed_list' THEN list_problem
        WHEN 'not_shown' THEN
            'the node OS upgrade channel is not shown (see AKS-CHN-02) and there is no aksManagedNodeOSUpgradeSchedule'
        WHEN 'missing' THEN
            'node OS patching is automated ('
            || CASE WHEN upgrade_channel = 'node-image' THEN 'upgradeChannel node-image'
                    ELSE 'nodeOSUpgradeChannel ' || node_os_upgrade_channel_raw END
            || ') but there is no aksManagedNodeOSUpgradeSchedule: node images may roll at any time'
            || CASE WHEN has_legacy_default THEN '; the legacy ''default'' configuration does not schedule node OS updates'
                    ELSE '' END
        WHEN 'no_window' THEN name || ' has no maintenanceWindow, so it schedules nothing'
        WHEN 'malformed_window' THEN name || ' cannot be judged: ' || window_problem
        WHEN 'too_long' THEN
            name || ' lasts ' || duration_hours || ' hours'
            || CASE WHEN defaulted THEN ' (durationHours absent: the service default)' ELSE '' END
            || ', longer than ' || max_hours || ': ' || schedule_text
        ELSE
            'node OS updates run in ' || name || ': ' || schedule_text || ' for '
            || duration_hours || ' hours (limit ' || max_hours || ')'
    END AS message,
    coalesce(profile_problem,
             CASE WHEN has_auto_upgrade_profile THEN
                  'nodeOSUpgradeChannel=' || coalesce('''' || node_os_upgrade_channel_raw || '''', 'absent')
                  || '; upgradeChannel=' || coalesce('''' || upgrade_channel_raw || '''', 'absent')
             ELSE 'autoUpgradeProfile absent' END)
        || CASE WHEN reason IN ('malformed_cluster', 'not_automated') THEN ''
                WHEN NOT collected THEN '; maintenanceConfigurations not collected'
                ELSE '; maintenanceConfigurations=[' || coalesce(names, '') || ']'
                     || coalesce('; ' || name || ' durationHours=' || duration_hours
                                 || CASE WHEN defaulted THEN ' (default)' ELSE '' END, '') END AS evidence,
    CASE WHEN reason = 'missing' THEN 'add' ELSE 'update' END AS target
FROM decided;
