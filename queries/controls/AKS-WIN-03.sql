-- AKS-WIN-03: every maintenance window in the maintenanceWindow form takes effect: it is active (startDate not after
-- the scan, read in its fixed utcOffset), it has a schedule, the node OS window opens at least every
-- [image_max_age_days] days (when node OS patching may use it: node_os_automated not false, with
-- [allowed_node_os_upgrade_channels]), and its freezes ending on or after the scan block at most
-- [maintenance_freeze_max_days] consecutive days. Windows come from window_effect, freezes from window_freeze_blocks
-- (queries/model/84_window_effect.sql). `unknown` when the list was not collected or a needed value is unreadable.
WITH clusters_in AS (
    SELECT
        c.cluster_id,
        cp.image_max_age_days AS max_gap, cp.maintenance_freeze_max_days AS max_freeze,
        node_os_automated(c.upgrade_channel, c.node_os_upgrade_channel, c.has_auto_upgrade_profile,
                          cp.allowed_node_os_upgrade_channels) AS node_os_automated,
        c.cluster_id IN (SELECT cluster_id FROM maintenance_collected) AS collected,
        lp.problem AS list_problem,
        lp.problem IS NOT NULL AS malformed
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN maintenance_list_problems lp USING (cluster_id)
),
freezes AS (
    SELECT
        cluster_id, config_key,
        max(days) FILTER (WHERE block_end >= local_today) AS longest_days,
        arg_max(strftime(block_start, '%Y-%m-%d') || ' to ' || strftime(block_end, '%Y-%m-%d'),
                (days, block_start)) FILTER (WHERE block_end >= local_today) AS longest_span,
        bool_or(local_today BETWEEN block_start AND block_end) AS frozen_now,
        min(problem) AS problem
    FROM window_freeze_blocks
    GROUP BY ALL
),
windows AS (
    SELECT
        w.*, ci.max_gap, ci.max_freeze, ci.node_os_automated,
        f.longest_days, f.longest_span, coalesce(f.frozen_now, false) AS frozen_now, f.problem AS freeze_problem,
        w.config_key = 'aksmanagednodeosupgradeschedule' AS node_os_window,
        -- The node OS window, when node OS patching may use it: its cadence matters.
        w.config_key = 'aksmanagednodeosupgradeschedule' AND coalesce(ci.node_os_automated, true) AS patches_in_window,
        w.schedule_type = 'OBJECT' AS schedule_is_object
    FROM window_effect w
    JOIN clusters_in ci USING (cluster_id)
    LEFT JOIN freezes f USING (cluster_id, config_key)
),
judged AS (
    SELECT
        *,
        CASE
            WHEN activates_at > scan_at THEN 'inactive'
            WHEN schedule_type IS NULL OR schedule_type = 'NULL' OR (schedule_is_object AND kinds = 0)
                THEN 'unscheduled'
            WHEN patches_in_window AND max_gap_days > max_gap THEN 'too rare'
            WHEN longest_days > max_freeze THEN 'frozen'
        END AS failure,
        coalesce(problem, freeze_problem,
                 CASE WHEN patches_in_window THEN recurrence_problem END) AS unreadable
    FROM windows
),
worded AS (
    SELECT
        *,
        schedule_kind || ' every ' || interval_n || CASE schedule_kind WHEN 'daily' THEN ' day(s)'
                                                      WHEN 'weekly' THEN ' week(s)' ELSE ' month(s)' END AS cadence,
        (epoch(activates_at) - epoch(scan_at)) / 3600.0 AS hours_to_start
    FROM judged
),
texts AS (
    SELECT
        *,
        CASE failure
            WHEN 'inactive' THEN
                name || ' starts on ' || start_date || ' (UTC' || utc_offset || '): it activates at '
                || strftime(activates_at, '%Y-%m-%d %H:%M UTC') || ', '
                || CASE WHEN hours_to_start < 48 THEN round(hours_to_start, 1) || ' hours'
                        ELSE days_text(CAST(floor(hours_to_start / 24) AS INTEGER)) END
                || ' after the scan, and until then it is inactive and schedules nothing'
            WHEN 'unscheduled' THEN
                name || CASE WHEN schedule_is_object
                             THEN '''s schedule names none of daily, weekly, absoluteMonthly, relativeMonthly'
                             ELSE ' has no schedule' END || ': it never opens'
            WHEN 'too rare' THEN
                name || ' (' || cadence || ') can go ' || days_text(max_gap_days)
                || ' between openings, more than the ' || max_gap || '-day node image age limit it must keep'
            WHEN 'frozen' THEN
                name || ' is frozen by notAllowedDates for ' || longest_days
                || CASE WHEN longest_days = 1 THEN ' consecutive day (' ELSE ' consecutive days (' END || longest_span
                || ', UTC' || utc_offset || '), more than ' || max_freeze
        END AS failure_text,
        CASE WHEN unreadable IS NOT NULL THEN name || ': ' || unreadable END AS unknown_text,
        name || ' takes effect ('
            || coalesce(cadence, 'scheduled')
            || coalesce(', at most ' || days_text(max_gap_days) || ' between openings', '')
            || CASE WHEN start_date IS NOT NULL THEN ', active since ' || start_date ELSE '' END
            || CASE WHEN frozen_now THEN ', frozen now for ' || days_text(longest_days) || ' (' || longest_span || ')'
                    WHEN longest_days IS NOT NULL THEN ', longest coming freeze ' || days_text(longest_days) || ' (' || longest_span || ')'
                    ELSE '' END
            || ')' AS pass_text
    FROM worded
),
per_cluster AS (
    SELECT
        cluster_id,
        count(*) AS windows,
        count(*) FILTER (WHERE failure IS NOT NULL) AS failures,
        count(*) FILTER (WHERE failure IS NULL AND unreadable IS NOT NULL) AS unknowns,
        string_agg(failure_text, '; ' ORDER BY config_key, name, failure_text) FILTER (WHERE failure IS NOT NULL) AS failure_texts,
        string_agg(unknown_text, '; ' ORDER BY config_key, name, unknown_text) FILTER (WHERE failure IS NULL AND unreadable IS NOT NULL)
            AS unknown_texts,
        string_agg(pass_text, '; ' ORDER BY config_key, name, pass_text) AS pass_texts,
        arg_min(name, (config_key, name)) FILTER (WHERE failure IS NOT NULL) AS first_failing,
        string_agg(name || ' startDate=' || coalesce(start_date_raw, 'absent') || ' utcOffset='
                   || coalesce(offset_raw, 'absent (+00:00)') || ' schedule=' || coalesce(schedule_kind, 'none')
                   || coalesce('/' || interval_n, '') || ' longestFreeze=' || coalesce(CAST(longest_days AS VARCHAR), 'none'),
                   '; ' ORDER BY config_key, name, start_date_raw, offset_raw, schedule_kind, interval_n, longest_days)
            AS window_evidence
    FROM texts
    GROUP BY cluster_id
),
decided AS (
    SELECT
        ci.*, p.* EXCLUDE (cluster_id), me.error AS collection_error,
        CASE
            WHEN NOT ci.collected THEN 'not_collected'
            WHEN ci.malformed THEN 'malformed_list'
            WHEN p.windows IS NULL THEN 'no_window'
            WHEN p.failures > 0 THEN 'ineffective'
            WHEN p.unknowns > 0 THEN 'unreadable'
            ELSE 'effective'
        END AS reason
    FROM clusters_in ci
    LEFT JOIN per_cluster p USING (cluster_id)
    LEFT JOIN maintenance_errors me USING (cluster_id)
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'no_window' THEN 'not_applicable'
        WHEN 'ineffective' THEN 'fail'
        WHEN 'effective' THEN 'pass'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'not_collected' THEN 'maintenance configurations were not collected: ' || coalesce(collection_error, 'no evidence')
        WHEN 'malformed_list' THEN list_problem
        WHEN 'no_window' THEN
            'no maintenance window in the maintenanceWindow form (AKS-WIN-01 and AKS-WIN-02 judge whether one is needed)'
        WHEN 'ineffective' THEN failure_texts
        WHEN 'unreadable' THEN 'whether every window takes effect cannot be told: ' || unknown_texts
        ELSE pass_texts
    END AS message,
    CASE WHEN NOT collected THEN 'maintenanceConfigurations not collected'
         ELSE 'maintenanceConfigurations: ' || coalesce(window_evidence, 'no maintenanceWindow') END
        || '; node OS patching automated=' || coalesce(CAST(node_os_automated AS VARCHAR), 'not shown')
        || '; limits: ' || days_text(max_gap) || ' between node OS openings, ' || days_text(max_freeze)
        || ' frozen in a row' AS evidence,
    first_failing AS target
FROM decided;
