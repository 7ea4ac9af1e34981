-- Maintenance configurations per cluster. `collected` clusters have a list (possibly empty);
-- clusters whose list call failed have no row in maintenance_collected (the error is in scan_errors,
-- call 'maintenance_configurations', scope = cluster id).
CREATE OR REPLACE TEMP TABLE maintenance_collected AS
SELECT e.scope AS cluster_id FROM evidence e WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations';

-- A list whose `value` is not a list cannot be read: the window controls say `unknown` for that cluster.
CREATE OR REPLACE TEMP TABLE maintenance_list_problems AS
SELECT e.scope AS cluster_id,
       'the maintenance configuration list is malformed: value is '
       || json_kind(json_type(e.payload, '$.value')) || ', not a list' AS problem
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations'
  AND json_type(e.payload, '$.value') IS DISTINCT FROM 'ARRAY';

-- Each configuration; `problem` says why a window cannot be judged (MaintenanceConfiguration.tsp: a window needs a
-- schedule with exactly one of daily, weekly, absoluteMonthly, relativeMonthly, and lasts 4 to 24 hours).
CREATE OR REPLACE TEMP TABLE maintenance AS
WITH items AS (
    SELECT e.scope AS cluster_id, unnest(CAST(e.payload->'$.value' AS JSON[])) AS m
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations'
      AND json_type(e.payload, '$.value') = 'ARRAY'
),
shaped AS (
    SELECT
        cluster_id,
        CASE WHEN json_type(m, '$.name') = 'VARCHAR' THEN m->>'$.name' END AS config_name,
        json_type(m, '$.properties.maintenanceWindow') = 'OBJECT'  AS has_window,
        json_type(m, '$.properties.maintenanceWindow')             AS window_type,
        m->'$.properties.maintenanceWindow'                         AS w,
        json_type(m, '$.properties.maintenanceWindow.schedule')    AS schedule_type,
        json_type(m, '$.properties.maintenanceWindow.durationHours') AS duration_type,
        TRY_CAST(m->>'$.properties.maintenanceWindow.durationHours' AS INTEGER) AS duration_value,
        m
    FROM items
    WHERE json_type(m) = 'OBJECT'
)
SELECT
    cluster_id,
    config_name,
    CASE WHEN coalesce(has_window, false) THEN 'window' ELSE 'legacy' END AS form,
    -- durationHours defaults to 24 when absent (MaintenanceConfiguration.tsp).
    CASE WHEN has_window THEN coalesce(duration_value, 24) END  AS duration_hours,
    coalesce(has_window AND duration_type IS NULL, false)       AS duration_defaulted,
    CASE
        WHEN window_type IS NOT NULL AND window_type NOT IN ('OBJECT', 'NULL') THEN
            'maintenanceWindow is ' || json_kind(window_type) || ', not an object'
        WHEN NOT coalesce(has_window, false) THEN NULL
        WHEN schedule_type IS NULL OR schedule_type = 'NULL' THEN 'the window has no schedule'
        WHEN schedule_type <> 'OBJECT' THEN 'the window''s schedule is ' || json_kind(schedule_type) || ', not an object'
        WHEN json_type(w, '$.schedule.daily') IS DISTINCT FROM 'OBJECT'
             AND json_type(w, '$.schedule.weekly') IS DISTINCT FROM 'OBJECT'
             AND json_type(w, '$.schedule.absoluteMonthly') IS DISTINCT FROM 'OBJECT'
             AND json_type(w, '$.schedule.relativeMonthly') IS DISTINCT FROM 'OBJECT' THEN
            'the window''s schedule is none of daily, weekly, absoluteMonthly, relativeMonthly'
        WHEN duration_type IS NOT NULL AND duration_value IS NULL THEN
            'durationHours ' || CAST(w->'$.durationHours' AS VARCHAR) || ' is not a whole number of hours'
        WHEN duration_value IS NOT NULL AND NOT (duration_value BETWEEN 4 AND 24) THEN
            'durationHours ' || duration_value || ' is outside the 4 to 24 hours a window may last'
    END                                                         AS problem,
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
