-- Whether each maintenance window takes effect (AKS-WIN-03): one row per configuration in the maintenanceWindow form
-- (aksManagedAutoUpgradeSchedule, aksManagedNodeOSUpgradeSchedule), and its freezes merged into blocks.
-- MaintenanceConfiguration.tsp / ENUMS.md: `schedule` holds exactly one of daily {intervalDays 1..7}, weekly
-- {intervalWeeks 1..4, dayOfWeek}, absoluteMonthly {intervalMonths 1..6, dayOfMonth 1..31}, relativeMonthly
-- {intervalMonths 1..6, weekIndex First..Fourth|Last, dayOfWeek}. `startDate` (the window is inactive before it),
-- `startTime` and `notAllowedDates` are read in `utcOffset`, a fixed offset with no daylight saving (default +00:00).
-- A not-allowed span blocks from its start date to the end of its end date, in that offset (planned-maintenance.md).
-- `problem` says why a window cannot be judged (a value present but unreadable): the control says `unknown` then.
CREATE OR REPLACE TEMP TABLE window_effect AS
WITH items AS (
    SELECT e.scope AS cluster_id, unnest(CAST(e.payload->'$.value' AS JSON[])) AS m
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations'
      AND json_type(e.payload, '$.value') = 'ARRAY'
),
windows AS (
    SELECT
        cluster_id,
        m->>'$.name'                                   AS name,
        lower(m->>'$.name')                            AS config_key,
        m->'$.properties.maintenanceWindow'            AS w
    FROM items
    WHERE json_type(m) = 'OBJECT' AND json_type(m, '$.properties.maintenanceWindow') = 'OBJECT'
),
parts AS (
    -- Each window's JSON parsed twice (types, values) rather than once per field.
    SELECT
        cluster_id, name, config_key, w,
        json_type(w, ['$.schedule', '$.schedule.daily', '$.schedule.weekly', '$.schedule.absoluteMonthly',
                      '$.schedule.relativeMonthly', '$.notAllowedDates']) AS t,
        json_extract_string(w, ['$.utcOffset', '$.startDate', '$.schedule.daily.intervalDays',
                                '$.schedule.weekly.intervalWeeks', '$.schedule.absoluteMonthly.intervalMonths',
                                '$.schedule.relativeMonthly.intervalMonths', '$.schedule.absoluteMonthly.dayOfMonth',
                                '$.schedule.relativeMonthly.weekIndex', '$.schedule.relativeMonthly.dayOfWeek',
                                '$.schedule.weekly.dayOfWeek']) AS v
    FROM windows
),
fields AS (
    SELECT
        cluster_id, name, config_key, w,
        v[1]                                           AS offset_raw,
        v[2]                                           AS start_date_raw,
        TRY_CAST(v[2] AS DATE)                         AS start_date,
        t[1]                                           AS schedule_type,
        CASE WHEN t[2] = 'OBJECT' THEN 1 ELSE 0 END
            + CASE WHEN t[3] = 'OBJECT' THEN 1 ELSE 0 END
            + CASE WHEN t[4] = 'OBJECT' THEN 1 ELSE 0 END
            + CASE WHEN t[5] = 'OBJECT' THEN 1 ELSE 0 END AS kinds,
        CASE
            WHEN t[2] = 'OBJECT' THEN 'daily'
            WHEN t[3] = 'OBJECT' THEN 'weekly'
            WHEN t[4] = 'OBJECT' THEN 'absoluteMonthly'
            WHEN t[5] = 'OBJECT' THEN 'relativeMonthly'
        END                                            AS schedule_kind,
        coalesce(v[3], v[4], v[5], v[6])               AS interval_raw,
        TRY_CAST(v[7] AS INTEGER)                      AS day_of_month,
        lower(v[8])                                    AS week_index,
        list_position(['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
                      lower(coalesce(v[9], v[10]))) - 1 AS weekday,
        t[6]                                           AS freezes_type
    FROM parts
),
parsed AS (
    SELECT
        f.*,
        CASE
            WHEN offset_raw IS NULL THEN 0
            WHEN regexp_full_match(offset_raw, '[+-]\d{2}:\d{2}') THEN
                (CASE WHEN offset_raw[1] = '-' THEN -1 ELSE 1 END)
                * (CAST(offset_raw[2:3] AS INTEGER) * 60 + CAST(offset_raw[5:6] AS INTEGER))
        END                                            AS offset_minutes,
        TRY_CAST(interval_raw AS INTEGER)              AS interval_n,
        s.started_at                                   AS scan_at
    FROM fields f
    CROSS JOIN scan s
),
placed AS (
    SELECT
        *,
        CAST(scan_at + to_minutes(coalesce(offset_minutes, 0)) AS DATE) AS local_today,
        CAST(start_date AS TIMESTAMP) - to_minutes(coalesce(offset_minutes, 0)) AS activates_at,
        -- The first month the schedule counts from: the start date's, else the scan's (local).
        CAST(date_trunc('month', coalesce(start_date, CAST(scan_at + to_minutes(coalesce(offset_minutes, 0)) AS DATE)))
             AS DATE)                                  AS base_month
    FROM parsed
),
occurrences AS (
    -- Monthly schedules: their openings over at least two years, to find the longest gap between two of them.
    -- absoluteMonthly on a day a month lacks (31 in April) has no opening that month (docs/controls.md).
    SELECT
        *,
        CASE
            WHEN schedule_kind = 'absoluteMonthly' AND interval_n BETWEEN 1 AND 6 AND day_of_month BETWEEN 1 AND 31 THEN
                list_filter(list_transform(range(0, 25), lambda k:
                    CASE WHEN day_of_month <= day(last_day(base_month + to_months(k * interval_n)))
                         THEN CAST(base_month + to_months(k * interval_n) AS DATE) + CAST(day_of_month - 1 AS INTEGER) END),
                    lambda d: d IS NOT NULL)
            WHEN schedule_kind = 'relativeMonthly' AND interval_n BETWEEN 1 AND 6 AND weekday >= 0
                 AND week_index IN ('first', 'second', 'third', 'fourth', 'last') THEN
                list_transform(range(0, 25), lambda k:
                    CASE WHEN week_index = 'last'
                         THEN CAST(last_day(base_month + to_months(k * interval_n)) AS DATE)
                              - CAST((dayofweek(last_day(base_month + to_months(k * interval_n))) - weekday + 7) % 7 AS INTEGER)
                         ELSE CAST(base_month + to_months(k * interval_n) AS DATE)
                              + CAST((weekday - dayofweek(base_month + to_months(k * interval_n)) + 7) % 7
                                     + 7 * (list_position(['first', 'second', 'third', 'fourth'], week_index) - 1)
                                     AS INTEGER)
                    END)
        END                                            AS openings
    FROM placed
)
SELECT
    cluster_id,
    name,
    config_key,
    offset_raw,
    coalesce(offset_raw, '+00:00')                     AS utc_offset,
    offset_minutes,
    start_date_raw,
    start_date,
    activates_at,
    scan_at,
    local_today,
    schedule_type,
    kinds,
    schedule_kind,
    interval_n,
    w->'$.schedule'                                    AS schedule,
    -- The longest time between two openings of the window, in days.
    CASE
        WHEN schedule_kind = 'daily' AND interval_n BETWEEN 1 AND 7 THEN interval_n
        WHEN schedule_kind = 'weekly' AND interval_n BETWEEN 1 AND 4 AND weekday >= 0 THEN 7 * interval_n
        WHEN openings IS NOT NULL AND len(openings) > 1 THEN
            list_max(list_transform(range(1, len(openings)), lambda i: openings[i + 1] - openings[i]))
    END                                                AS max_gap_days,
    freezes_type,
    CASE
        WHEN offset_raw IS NOT NULL AND offset_minutes IS NULL THEN
            'utcOffset ''' || offset_raw || ''' is not of the form +HH:MM'
        WHEN start_date_raw IS NOT NULL AND start_date IS NULL THEN
            'startDate ''' || start_date_raw || ''' is not a date'
        WHEN schedule_type = 'OBJECT' AND kinds > 1 THEN
            'the schedule names more than one of daily, weekly, absoluteMonthly, relativeMonthly'
        WHEN schedule_type IS NOT NULL AND schedule_type NOT IN ('OBJECT', 'NULL') THEN
            'the schedule is ' || lower(schedule_type) || ', not an object'
        WHEN freezes_type IS NOT NULL AND freezes_type NOT IN ('ARRAY', 'NULL') THEN
            'notAllowedDates is ' || lower(freezes_type) || ', not a list'
    END                                                AS problem,
    -- Why the recurrence cannot be measured (only judged for the node OS window).
    CASE
        WHEN schedule_kind IS NULL THEN NULL
        WHEN interval_n IS NULL THEN
            'its ' || schedule_kind || ' interval ' || coalesce('''' || interval_raw || '''', 'is missing and')
            || ' is not a whole number'
        WHEN schedule_kind IN ('weekly', 'relativeMonthly') AND (weekday IS NULL OR weekday < 0) THEN
            'its dayOfWeek is not a day of the week'
        WHEN schedule_kind = 'relativeMonthly' AND week_index NOT IN ('first', 'second', 'third', 'fourth', 'last') THEN
            'its weekIndex is none of First, Second, Third, Fourth, Last'
        WHEN schedule_kind = 'absoluteMonthly' AND NOT coalesce(day_of_month BETWEEN 1 AND 31, false) THEN
            'its dayOfMonth is not a day from 1 to 31'
        WHEN (schedule_kind = 'daily' AND interval_n NOT BETWEEN 1 AND 7)
          OR (schedule_kind = 'weekly' AND interval_n NOT BETWEEN 1 AND 4)
          OR (schedule_kind IN ('absoluteMonthly', 'relativeMonthly') AND interval_n NOT BETWEEN 1 AND 6) THEN
            'its interval ' || interval_n || ' is outside the range AKS allows'
    END                                                AS recurrence_problem
FROM occurrences;

-- Each window's not-allowed spans merged into blocks: spans that overlap or touch (the next starts the day after one
-- ends) block the window without a break.
CREATE OR REPLACE TEMP TABLE window_freeze_blocks AS
WITH spans AS (
    SELECT
        x.cluster_id, x.config_key, x.local_today,
        unnest(CAST(x.w->'$.notAllowedDates' AS JSON[])) AS span
    FROM (
        SELECT e.scope AS cluster_id, lower(m->>'$.name') AS config_key, m->'$.properties.maintenanceWindow' AS w,
               v.local_today
        FROM evidence e, unnest(CAST(e.payload->'$.value' AS JSON[])) AS t(m)
        JOIN window_effect v ON v.cluster_id = e.scope AND v.config_key = lower(m->>'$.name')
        WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations'
          AND json_type(e.payload, '$.value') = 'ARRAY' AND json_type(m) = 'OBJECT'
          AND json_type(m, '$.properties.maintenanceWindow.notAllowedDates') = 'ARRAY'
    ) x
),
dated AS (
    SELECT
        cluster_id, config_key, local_today,
        span->>'$.start' AS start_raw, span->>'$.end' AS end_raw,
        TRY_CAST(span->>'$.start' AS DATE) AS span_start,
        TRY_CAST(span->>'$.end' AS DATE) AS span_end
    FROM spans
),
ordered AS (
    SELECT
        *,
        max(span_end) OVER (PARTITION BY cluster_id, config_key ORDER BY span_start, span_end
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM dated
    WHERE span_start IS NOT NULL AND span_end IS NOT NULL AND span_end >= span_start
),
numbered AS (
    SELECT
        *,
        sum(CASE WHEN reach IS NULL OR span_start > reach + 1 THEN 1 ELSE 0 END)
            OVER (PARTITION BY cluster_id, config_key ORDER BY span_start, span_end ROWS UNBOUNDED PRECEDING) AS block
    FROM ordered
)
SELECT
    cluster_id, config_key, block,
    min(span_start)                                    AS block_start,
    max(span_end)                                      AS block_end,
    max(span_end) - min(span_start) + 1                AS days,
    count(*)                                           AS spans,
    min(local_today)                                   AS local_today,
    NULL::VARCHAR                                      AS problem
FROM numbered
GROUP BY cluster_id, config_key, block
UNION ALL
-- A span whose dates cannot be read: the window's freezes cannot be judged.
SELECT cluster_id, config_key, NULL, NULL, NULL, NULL, 1, local_today,
       'a notAllowedDates span (' || coalesce(start_raw, 'no start') || ' to ' || coalesce(end_raw, 'no end')
       || ') is not a pair of dates, start before end'
FROM dated
WHERE span_start IS NULL OR span_end IS NULL OR span_end < span_start;
