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
parsed AS (
    -- Each configuration is parsed once: json_type / json_extract_string with a list of paths give the values in order.
    SELECT
        cluster_id,
        m,
        json_type(m, [
            '$.name',                                                   -- 1
            '$.properties.maintenanceWindow',                           -- 2
            '$.properties.maintenanceWindow.schedule',                  -- 3
            '$.properties.maintenanceWindow.durationHours',             -- 4
            '$.properties.maintenanceWindow.schedule.daily',            -- 5
            '$.properties.maintenanceWindow.schedule.weekly',           -- 6
            '$.properties.maintenanceWindow.schedule.absoluteMonthly',  -- 7
            '$.properties.maintenanceWindow.schedule.relativeMonthly'   -- 8
        ]) AS t,
        json_extract_string(m, [
            '$.name',                                                           -- 1
            '$.properties.maintenanceWindow.durationHours',                     -- 2
            '$.properties.maintenanceWindow.schedule.daily.intervalDays',       -- 3
            '$.properties.maintenanceWindow.schedule.weekly.intervalWeeks',     -- 4
            '$.properties.maintenanceWindow.schedule.weekly.dayOfWeek',         -- 5
            '$.properties.maintenanceWindow.schedule.absoluteMonthly.intervalMonths', -- 6
            '$.properties.maintenanceWindow.schedule.absoluteMonthly.dayOfMonth',     -- 7
            '$.properties.maintenanceWindow.schedule.relativeMonthly.intervalMonths', -- 8
            '$.properties.maintenanceWindow.schedule.relativeMonthly.weekIndex',      -- 9
            '$.properties.maintenanceWindow.schedule.relativeMonthly.dayOfWeek',      -- 10
            '$.properties.maintenanceWindow.startTime',                         -- 11
            '$.properties.maintenanceWindow.utcOffset'                          -- 12
        ]) AS v,
        json_extract(m, [
            '$.properties.maintenanceWindow.schedule',                  -- 1
            '$.properties.maintenanceWindow.durationHours'              -- 2
        ]) AS j
    FROM items
    WHERE json_type(m) = 'OBJECT'
),
shaped AS (
    SELECT
        cluster_id,
        CASE WHEN t[1] = 'VARCHAR' THEN v[1] END                   AS config_name,
        t[2] = 'OBJECT'                                             AS has_window,
        t[2]                                                        AS window_type,
        t[3]                                                        AS schedule_type,
        t[4]                                                        AS duration_type,
        TRY_CAST(v[2] AS INTEGER)                                   AS duration_value,
        t, v, j, m
    FROM parsed
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
        WHEN t[5] IS DISTINCT FROM 'OBJECT' AND t[6] IS DISTINCT FROM 'OBJECT'
             AND t[7] IS DISTINCT FROM 'OBJECT' AND t[8] IS DISTINCT FROM 'OBJECT' THEN
            'the window''s schedule is none of daily, weekly, absoluteMonthly, relativeMonthly'
        WHEN duration_type IS NOT NULL AND duration_value IS NULL THEN
            'durationHours ' || CAST(j[2] AS VARCHAR) || ' is not a whole number of hours'
        WHEN duration_value IS NOT NULL AND NOT (duration_value BETWEEN 4 AND 24) THEN
            'durationHours ' || duration_value || ' is outside the 4 to 24 hours a window may last'
    END                                                         AS problem,
    j[1]                                                            AS schedule,
    -- The schedule in words, for messages: "weekly on Saturday at 01:00 UTC+00:00".
    CASE WHEN has_window THEN
        CASE
            -- A key present with any value (JSON null included) picks the branch, as `->` IS NOT NULL did.
            WHEN t[5] IS NOT NULL THEN 'every ' || coalesce(v[3], '1') || ' day(s)'
            WHEN t[6] IS NOT NULL THEN 'every ' || coalesce(v[4], '1') || ' week(s) on ' || coalesce(v[5], '?')
            WHEN t[7] IS NOT NULL THEN
                'every ' || coalesce(v[6], '1') || ' month(s) on day ' || coalesce(v[7], '?')
            WHEN t[8] IS NOT NULL THEN
                'every ' || coalesce(v[8], '1') || ' month(s) on the ' || lower(coalesce(v[9], '?')) || ' '
                || coalesce(v[10], '?')
            ELSE 'on an unrecognised schedule'
        END || ' at ' || coalesce(v[11], '?') || ' UTC' || coalesce(v[12], '+00:00')
    END                                                             AS schedule_text,
    m                                                               AS payload
FROM shaped;
