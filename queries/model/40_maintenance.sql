-- Maintenance configurations per cluster. `collected` clusters have a list (possibly empty);
-- clusters whose list call failed have no row in maintenance_collected (the error is in scan_errors,
-- call 'maintenance_configurations', scope = cluster id).
CREATE OR REPLACE TEMP TABLE maintenance_collected AS
SELECT e.scope AS cluster_id FROM evidence e WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations';

CREATE OR REPLACE TEMP TABLE maintenance AS
WITH items AS (
    SELECT e.scope AS cluster_id, unnest(CAST(e.payload->'$.value' AS JSON[])) AS m
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations'
),
shaped AS (
    SELECT
        cluster_id,
        m->>'$.name'                                                AS config_name,
        json_type(m->'$.properties.maintenanceWindow') = 'OBJECT'   AS has_window,
        m->'$.properties.maintenanceWindow'                         AS w,
        m
    FROM items
)
SELECT
    cluster_id,
    config_name,
    CASE WHEN coalesce(has_window, false) THEN 'window' ELSE 'legacy' END AS form,
    -- durationHours defaults to 24 when absent (MaintenanceConfiguration.tsp).
    CASE WHEN has_window THEN coalesce(TRY_CAST(w->>'$.durationHours' AS INTEGER), 24) END AS duration_hours,
    coalesce(has_window AND (w->'$.durationHours') IS NULL, false)  AS duration_defaulted,
    w->'$.schedule'                                                 AS schedule,
    -- The schedule in words, for messages: "weekly on Saturday at 01:00 UTC+00:00".
    CASE WHEN has_window THEN
        CASE
            WHEN (w->'$.schedule.daily') IS NOT NULL THEN
                'every ' || coalesce(w->>'$.schedule.daily.intervalDays', '1') || ' day(s)'
            WHEN (w->'$.schedule.weekly') IS NOT NULL THEN
                'every ' || coalesce(w->>'$.schedule.weekly.intervalWeeks', '1') || ' week(s) on '
                || coalesce(w->>'$.schedule.weekly.dayOfWeek', '?')
            WHEN (w->'$.schedule.absoluteMonthly') IS NOT NULL THEN
                'every ' || coalesce(w->>'$.schedule.absoluteMonthly.intervalMonths', '1') || ' month(s) on day '
                || coalesce(w->>'$.schedule.absoluteMonthly.dayOfMonth', '?')
            WHEN (w->'$.schedule.relativeMonthly') IS NOT NULL THEN
                'every ' || coalesce(w->>'$.schedule.relativeMonthly.intervalMonths', '1') || ' month(s) on the '
                || lower(coalesce(w->>'$.schedule.relativeMonthly.weekIndex', '?')) || ' '
                || coalesce(w->>'$.schedule.relativeMonthly.dayOfWeek', '?')
            ELSE 'on an unrecognised schedule'
        END || ' at ' || coalesce(w->>'$.startTime', '?') || ' UTC' || coalesce(w->>'$.utcOffset', '+00:00')
    END                                                             AS schedule_text,
    m                                                               AS payload
FROM shaped;
