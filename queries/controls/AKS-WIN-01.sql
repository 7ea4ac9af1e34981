-- AKS-WIN-01: a cluster with an auto-upgrade channel has an aksManagedAutoUpgradeSchedule maintenance window no
-- longer than [window_max_hours]. The legacy `default` configuration (timeInWeek) does not schedule auto-upgrades.
-- `unknown` when the cluster's maintenance list was not collected (no row in maintenance_collected).
-- A Fleet Manager member covered by an enabled Kubernetes auto-upgrade profile is upgraded by Fleet's update runs,
-- which honour the same aksManagedAutoUpgradeSchedule; without it a run upgrades the member as soon as it reaches it
-- (docs/fleet.md): judged as if its channel were set.
WITH judged AS (
    SELECT c.cluster_id, c.upgrade_channel, c.upgrade_channel_raw, cp.window_max_hours AS max_hours,
           f.kubernetes_profiles,
           CASE WHEN c.upgrade_channel = 'none' AND f.kubernetes_profiles IS NOT NULL
                THEN 'Fleet Manager auto-upgrade profile ' || f.kubernetes_profiles
                ELSE 'auto-upgrade channel ' || c.upgrade_channel END AS driver,
           c.cluster_id IN (SELECT cluster_id FROM maintenance_collected) AS collected,
           w.name, w.form, w.duration_hours, w.defaulted, w.schedule_text,
           coalesce(s.has_legacy_default, false) AS has_legacy_default, s.names, e.error
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN maintenance_schedules w ON w.cluster_id = c.cluster_id AND w.config_key = 'aksmanagedautoupgradeschedule'
    LEFT JOIN maintenance_summary s ON s.cluster_id = c.cluster_id
    LEFT JOIN maintenance_errors e ON e.cluster_id = c.cluster_id
    LEFT JOIN fleet_cluster_authority f ON f.cluster_key = lower(c.cluster_id)
),
decided AS (
    SELECT *,
        CASE
            WHEN upgrade_channel = 'none' AND kubernetes_profiles IS NULL THEN 'not_applicable'
            WHEN NOT collected THEN 'unknown'
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
            'no auto-upgrade channel is set (upgradeChannel ' || coalesce(upgrade_channel_raw, 'absent, so none')
            || '): there are no auto-upgrades to schedule (see AKS-CHN-01)'
        WHEN status = 'unknown' THEN
            'maintenance configurations were not collected: ' || coalesce(error, 'no evidence')
        WHEN name IS NULL THEN
            driver || ' is set but there is no aksManagedAutoUpgradeSchedule: '
            || 'upgrades may start at any time'
            || CASE WHEN has_legacy_default THEN '; the legacy ''default'' configuration does not schedule auto-upgrades'
                    ELSE '' END
        WHEN form <> 'window' THEN
            name || ' has no maintenanceWindow, so it schedules nothing'
        WHEN status = 'warn' THEN
            name || ' lasts ' || duration_hours || ' hours'
            || CASE WHEN defaulted THEN ' (durationHours absent: the service default)' ELSE '' END
            || ', longer than ' || max_hours || ': ' || schedule_text
        ELSE
            driver || ' runs in ' || name || ': ' || schedule_text || ' for '
            || duration_hours || ' hours (limit ' || max_hours || ')'
    END AS message,
    'upgradeChannel=' || coalesce(upgrade_channel_raw, 'absent')
        || coalesce('; Fleet profiles=' || kubernetes_profiles, '')
        || CASE WHEN upgrade_channel = 'none' AND kubernetes_profiles IS NULL THEN ''
                WHEN NOT collected THEN '; maintenanceConfigurations not collected'
                ELSE '; maintenanceConfigurations=[' || coalesce(names, '') || ']'
                     || coalesce('; ' || name || ' durationHours=' || duration_hours
                                 || CASE WHEN defaulted THEN ' (default)' ELSE '' END, '') END AS evidence,
    CASE WHEN status = 'fail' AND name IS NULL THEN 'add' ELSE 'update' END AS target
FROM decided;
