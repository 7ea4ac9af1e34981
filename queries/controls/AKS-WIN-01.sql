-- AKS-WIN-01: a cluster with an auto-upgrade channel has an aksManagedAutoUpgradeSchedule maintenance window no
-- longer than [window_max_hours]. The legacy `default` configuration (timeInWeek) does not schedule auto-upgrades.
-- `unknown` when the cluster's maintenance list was not collected (no row in maintenance_collected) or cannot be read,
-- when the window itself is malformed (no schedule, an unknown schedule form, durationHours outside 4..24), or when the
-- cluster's autoUpgradeProfile is. An empty channel string is `none`. Whether a well-formed window ever takes effect
-- (start date, freezes, cadence) is AKS-WIN-03's question. The status is decided once (`reason`), then worded.
-- A Fleet Manager member covered by an enabled Kubernetes auto-upgrade profile is upgraded by Fleet's update runs,
-- which honour the same aksManagedAutoUpgradeSchedule; without it a run upgrades the member as soon as it reaches it
-- (docs/fleet.md): judged as if its channel were set.
WITH judged AS (
    SELECT c.cluster_id, c.upgrade_channel, c.upgrade_channel_raw, c.channel_problem, cp.window_max_hours AS max_hours,
           f.kubernetes_profiles, c.upgrade_channel = 'none' AS channel_none,
           c.cluster_id IN (SELECT cluster_id FROM maintenance_collected) AS collected,
           w.name, w.form, w.duration_hours, w.defaulted, w.schedule_text, w.problem AS window_problem,
           coalesce(s.has_legacy_default, false) AS has_legacy_default, s.names, e.error, lp.problem AS list_problem
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN maintenance_schedules w ON w.cluster_id = c.cluster_id AND w.config_key = 'aksmanagedautoupgradeschedule'
    LEFT JOIN maintenance_summary s ON s.cluster_id = c.cluster_id
    LEFT JOIN maintenance_errors e ON e.cluster_id = c.cluster_id
    LEFT JOIN maintenance_list_problem lp ON lp.cluster_id = c.cluster_id
    LEFT JOIN fleet_cluster_authority f ON f.cluster_key = lower(c.cluster_id)
),
decided AS (
    SELECT *,
        CASE WHEN channel_none AND kubernetes_profiles IS NOT NULL
             THEN 'Fleet Manager auto-upgrade profile ' || kubernetes_profiles
             ELSE 'auto-upgrade channel ' || upgrade_channel END AS driver,
        CASE
            WHEN channel_problem IS NOT NULL THEN 'malformed_cluster'
            WHEN channel_none AND kubernetes_profiles IS NULL THEN 'no_channel'
            WHEN NOT collected THEN 'not_collected'
            WHEN list_problem IS NOT NULL THEN 'malformed_list'
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
        WHEN 'no_channel' THEN 'not_applicable'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'malformed_cluster' THEN channel_problem || ': the auto-upgrade channel cannot be read'
        WHEN 'no_channel' THEN
            'no auto-upgrade channel is set (upgradeChannel '
            || CASE WHEN upgrade_channel_raw IS NULL THEN 'absent, so none'
                    WHEN trim(upgrade_channel_raw) = '' THEN 'an empty string, so none'
                    ELSE upgrade_channel_raw END
            || '): there are no auto-upgrades to schedule (see AKS-CHN-01)'
        WHEN 'not_collected' THEN 'maintenance configurations were not collected: ' || coalesce(error, 'no evidence')
        WHEN 'malformed_list' THEN list_problem
        WHEN 'missing' THEN
            driver || ' is set but there is no aksManagedAutoUpgradeSchedule: '
            || 'upgrades may start at any time'
            || CASE WHEN has_legacy_default THEN '; the legacy ''default'' configuration does not schedule auto-upgrades'
                    ELSE '' END
        WHEN 'no_window' THEN name || ' has no maintenanceWindow, so it schedules nothing'
        WHEN 'malformed_window' THEN name || ' cannot be judged: ' || window_problem
        WHEN 'too_long' THEN
            name || ' lasts ' || duration_hours || ' hours'
            || CASE WHEN defaulted THEN ' (durationHours absent: the service default)' ELSE '' END
            || ', longer than ' || max_hours || ': ' || schedule_text
        ELSE
            driver || ' runs in ' || name || ': ' || schedule_text || ' for '
            || duration_hours || ' hours (limit ' || max_hours || ')'
    END AS message,
    'upgradeChannel=' || coalesce('''' || upgrade_channel_raw || '''', 'absent')
        || coalesce('; Fleet profiles=' || kubernetes_profiles, '')
        || CASE WHEN reason IN ('malformed_cluster', 'no_channel') THEN ''
                WHEN NOT collected THEN '; maintenanceConfigurations not collected'
                ELSE '; maintenanceConfigurations=[' || coalesce(names, '') || ']'
                     || coalesce('; ' || name || ' durationHours=' || duration_hours
                                 || CASE WHEN defaulted THEN ' (default)' ELSE '' END, '') END AS evidence,
    CASE WHEN reason = 'missing' THEN 'add' ELSE 'update' END AS target
FROM decided;
