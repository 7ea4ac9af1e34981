-- AKS-VER-02: support for the control plane's minor does not end within [support_warning_days].
-- End dates come from the bundled AKS calendar (version_calendar): end of support of the minor, or its LTS end for
-- LTS-eligible clusters (supportPlan AKSLongTermSupport on the Premium tier) when the minor has LTS.
-- The last day of support is still supported: `fail` only once as_of is past it.
WITH next_minor AS (
    SELECT c.cluster_id, min_by(rv.minor, rv.minor_num) AS next_minor
    FROM clusters c
    JOIN region_versions rv ON rv.location = c.location AND rv.minor_num > c.current_minor_num
         AND NOT rv.is_preview AND list_contains(rv.support_plans, 'KubernetesOfficial')
    GROUP BY c.cluster_id
),
judged AS (
    SELECT
        c.cluster_id, c.current_kubernetes_version, c.current_minor, c.support_plan, c.sku_tier, c.lts_eligible,
        cal.minor AS calendar_minor, cal.end_of_support, cal.lts_end,
        c.lts_eligible AND cal.lts_end IS NOT NULL AS under_lts,
        CASE WHEN c.lts_eligible AND cal.lts_end IS NOT NULL THEN cal.lts_end ELSE cal.end_of_support END AS support_end,
        cp.support_warning_days AS horizon, s.as_of, n.next_minor
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    CROSS JOIN scan s
    LEFT JOIN version_calendar cal ON cal.minor_num = c.current_minor_num
    LEFT JOIN next_minor n USING (cluster_id)
),
worded AS (
    SELECT *,
        date_diff('day', as_of, support_end) AS days_left,
        CASE WHEN under_lts THEN 'LTS support for ' ELSE 'support for ' END || current_minor AS what,
        CASE
            WHEN lts_eligible AND lts_end IS NULL THEN ' (the cluster is on LTS, but the calendar offers no LTS for '
                 || current_minor || ': standard support applies)'
            WHEN lower(support_plan) = 'akslongtermsupport' AND NOT lts_eligible THEN
                 ' (supportPlan AKSLongTermSupport needs the Premium tier, the cluster is on '
                 || coalesce(sku_tier, 'no tier') || ': standard support applies)'
            ELSE ''
        END AS note
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE
        WHEN current_minor IS NULL OR current_minor = '' THEN 'unknown'
        WHEN calendar_minor IS NULL OR support_end IS NULL THEN 'unknown'
        WHEN days_left < 0 THEN 'fail'
        WHEN days_left <= horizon THEN 'warn'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN current_minor IS NULL OR current_minor = '' THEN
            'currentKubernetesVersion ' || coalesce('''' || current_kubernetes_version || '''', 'is missing')
            || ': no minor to look up in the AKS calendar'
        WHEN calendar_minor IS NULL THEN
            'the bundled AKS calendar has no entry for ' || current_minor || ': its end of support is not known'
        WHEN support_end IS NULL THEN
            'the bundled AKS calendar gives no end-of-support date for ' || current_minor
        WHEN days_left < 0 THEN
            what || ' ended on ' || CAST(support_end AS VARCHAR) || ', ' || days_text(-days_left) || ' before the scan'
            || note
        WHEN days_left <= horizon THEN
            what || ' ends on ' || CAST(support_end AS VARCHAR) || ', in ' || days_text(days_left) || ' (warning horizon '
            || days_text(horizon) || ')' || note
        ELSE
            what || ' runs until ' || CAST(support_end AS VARCHAR) || ', ' || days_text(days_left) || ' away (warning horizon '
            || days_text(horizon) || ')' || note
    END AS message,
    'currentKubernetesVersion=' || coalesce(current_kubernetes_version, 'null') || '; supportPlan=' || support_plan
        || '; tier=' || coalesce(sku_tier, 'null') || '; AKS calendar ' || coalesce(calendar_minor, current_minor, '?')
        || ': end of support ' || coalesce(CAST(end_of_support AS VARCHAR), 'unknown') || ', LTS end '
        || coalesce(CAST(lts_end AS VARCHAR), 'none') || '; as of ' || CAST(as_of AS VARCHAR) AS evidence,
    next_minor AS target
FROM worded;
