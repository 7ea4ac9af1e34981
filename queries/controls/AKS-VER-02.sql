-- AKS-VER-02: support for the control plane's minor does not end within [support_warning_days].
-- Sources: the bundled AKS calendar (version_calendar: end of support of the minor, or its LTS end for LTS-eligible
-- clusters, i.e. supportPlan AKSLongTermSupport on the Premium tier, when the minor has LTS), and AKS's own
-- end-of-support notice for the cluster (eol_notices: a scheduled event with eventSource EOLNotification). When both
-- give a date and they disagree, the earlier one is judged and the message shows both. A minor older than every
-- minor of the calendar is provably out of support: its support ended before that of the oldest one the calendar
-- knows. The last day of support is still supported: `fail` only once as_of is past it.
WITH next_minor AS (
    SELECT c.cluster_id, min_by(m.minor, m.minor_num) AS next_minor
    FROM clusters c
    JOIN region_minors m ON m.location = c.location AND m.minor_num > c.current_minor_num AND m.official
    GROUP BY c.cluster_id
),
oldest AS (
    SELECT arg_min(minor, minor_num) AS minor, min(minor_num) AS minor_num,
           arg_min(end_of_support, minor_num) AS end_of_support
    FROM version_calendar
),
region_state AS (
    SELECT c.cluster_id,
           CASE WHEN l.location IS NULL THEN
                    'the region''s version list was not collected'
                    || coalesce(' (' || e.error || ')', '') || ', so no upgrade target is named'
                WHEN l.values_type IS DISTINCT FROM 'ARRAY' THEN
                    'the region''s version list is malformed, so no upgrade target is named'
           END AS target_note
    FROM clusters c
    LEFT JOIN (SELECT DISTINCT location, values_type FROM region_lists) l ON l.location = c.location
    LEFT JOIN (SELECT lower(regexp_replace(scope, '\s', '', 'g')) AS location,
                      min(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message))
                          AS error
               FROM scan_errors WHERE call = 'kubernetes_versions' GROUP BY ALL) e ON e.location = c.location
),
judged AS (
    SELECT
        c.cluster_id, c.current_kubernetes_version, c.current_minor, c.current_minor_num, c.support_plan, c.sku_tier,
        c.lts_eligible, c.version_evidence,
        coalesce(c.version_problem, c.support_plan_problem) AS problem,
        cal.minor AS calendar_minor, cal.end_of_support, cal.lts_end,
        c.lts_eligible AND cal.lts_end IS NOT NULL AS under_lts,
        CASE WHEN c.lts_eligible AND cal.lts_end IS NOT NULL THEN cal.lts_end ELSE cal.end_of_support END AS calendar_end,
        n.eol_date AS notice_end, n.support_type AS notice_type, n.notice, n.version AS notice_version,
        n.noticed_at,
        CASE WHEN lower(n.support_type) = 'lts' THEN cal.lts_end ELSE cal.end_of_support END AS calendar_for_notice,
        o.minor AS oldest_minor, o.minor_num AS oldest_minor_num, o.end_of_support AS oldest_end,
        cp.support_warning_days AS horizon, s.as_of, nm.next_minor, rs.target_note
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    CROSS JOIN scan s
    CROSS JOIN oldest o
    LEFT JOIN version_calendar cal ON cal.minor_num = c.current_minor_num
    LEFT JOIN eol_notices n ON n.cluster_key = lower(c.cluster_id) AND n.minor_num = c.current_minor_num
    LEFT JOIN next_minor nm USING (cluster_id)
    LEFT JOIN region_state rs USING (cluster_id)
),
decided AS (
    SELECT *,
        CASE
            WHEN problem IS NOT NULL THEN 'malformed_cluster'
            WHEN calendar_minor IS NULL AND current_minor_num < oldest_minor_num THEN 'older_than_calendar'
            WHEN calendar_end IS NOT NULL THEN 'calendar'
            WHEN notice_end IS NOT NULL THEN 'notice_only'
            WHEN calendar_minor IS NULL THEN 'not_in_calendar'
            ELSE 'no_end_date'
        END AS reason,
        notice_end IS NOT NULL AND notice_end IS DISTINCT FROM calendar_for_notice AS disagreement
    FROM judged
),
dated AS (
    SELECT *,
        CASE reason
            WHEN 'calendar' THEN least(calendar_end, notice_end)
            WHEN 'notice_only' THEN notice_end
            WHEN 'older_than_calendar' THEN oldest_end
        END AS support_end
    FROM decided
),
statused AS (
    SELECT *,
        date_diff('day', as_of, support_end) AS days_left,
        CASE
            WHEN reason = 'older_than_calendar' THEN 'fail'
            WHEN support_end IS NULL THEN 'unknown'
            WHEN date_diff('day', as_of, support_end) < 0 THEN 'fail'
            WHEN date_diff('day', as_of, support_end) <= horizon THEN 'warn'
            ELSE 'pass'
        END AS status,
        CASE WHEN under_lts THEN 'LTS support for ' ELSE 'support for ' END || coalesce(current_minor, '?') AS what,
        CASE
            WHEN lts_eligible AND lts_end IS NULL AND reason = 'calendar' THEN
                ' (the cluster is on LTS, but the calendar offers no LTS for ' || current_minor
                || ': standard support applies)'
            WHEN lower(coalesce(support_plan, '')) = 'akslongtermsupport' AND NOT lts_eligible THEN
                ' (supportPlan AKSLongTermSupport needs the Premium tier, the cluster is on '
                || coalesce(sku_tier, 'no tier') || ': standard support applies)'
            ELSE ''
        END AS note,
        CASE
            WHEN notice_end IS NULL THEN ''
            WHEN disagreement THEN
                '; AKS''s end-of-support notice' || coalesce(' (' || notice || ')', '') || ' says '
                || coalesce(notice_type, 'its') || ' support for ' || coalesce(notice_version, current_minor)
                || ' ends on ' || CAST(notice_end AS VARCHAR) || ', the bundled calendar says '
                || coalesce(CAST(calendar_for_notice AS VARCHAR), 'nothing') || ': the earlier date is judged'
            ELSE '; AKS''s end-of-support notice' || coalesce(' (' || notice || ')', '') || ' agrees'
        END AS notice_text
    FROM dated
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    status,
    CASE
        WHEN reason = 'malformed_cluster' THEN problem || ': no minor to look up in the AKS calendar'
        WHEN reason = 'not_in_calendar' THEN
            'the bundled AKS calendar has no entry for ' || current_minor || ' and AKS sent no end-of-support notice: '
            || 'its end of support is not known'
        WHEN reason = 'no_end_date' THEN 'the bundled AKS calendar gives no end-of-support date for ' || current_minor
        WHEN reason = 'older_than_calendar' THEN
            'support for ' || current_minor || ' ended before ' || CAST(oldest_end AS VARCHAR) || ' (the end of '
            || oldest_minor || ', the oldest minor in the bundled AKS calendar, which is newer)'
        WHEN status = 'fail' THEN
            what || ' ended on ' || CAST(support_end AS VARCHAR) || ', ' || days_text(-days_left) || ' before the scan'
            || note || notice_text
        WHEN status = 'warn' THEN
            what || ' ends on ' || CAST(support_end AS VARCHAR) || ', in ' || days_text(days_left) || ' (warning horizon '
            || days_text(horizon) || ')' || note || notice_text
        ELSE
            what || ' runs until ' || CAST(support_end AS VARCHAR) || ', ' || days_text(days_left) || ' away (warning horizon '
            || days_text(horizon) || ')' || note || notice_text
    END
    || CASE WHEN status IN ('fail', 'warn') AND next_minor IS NULL AND target_note IS NOT NULL
            THEN '; ' || target_note ELSE '' END AS message,
    version_evidence || '; supportPlan=' || coalesce(support_plan, 'unreadable') || '; tier='
        || coalesce(sku_tier, 'null') || '; bundled AKS calendar ' || coalesce(calendar_minor, current_minor, '?')
        || ': end of support ' || coalesce(CAST(end_of_support AS VARCHAR), 'unknown') || ', LTS end '
        || coalesce(CAST(lts_end AS VARCHAR), 'none')
        || CASE WHEN reason = 'older_than_calendar'
                THEN ' (not in the calendar; its oldest minor is ' || oldest_minor || ')' ELSE '' END
        || coalesce('; EOLNotification ' || coalesce(notice, '') || ' of '
                    || coalesce(strftime(noticed_at, '%Y-%m-%d'), 'unknown date') || ': ' || coalesce(notice_type, '?')
                    || ' eolDate ' || CAST(notice_end AS VARCHAR), '; no EOLNotification')
        || '; upgrade target ' || coalesce(next_minor, 'none: ' || coalesce(target_note, 'the region offers no newer minor'))
        || '; as of ' || CAST(as_of AS VARCHAR) AS evidence,
    next_minor AS target
FROM statused;
