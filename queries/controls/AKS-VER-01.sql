-- AKS-VER-01: the control plane's minor is supported in its region under its support plan.
-- Uses currentKubernetesVersion (what runs), not kubernetesVersion (what was asked for; may be an alias like 1.36).
WITH supported AS (
    SELECT location,
           list(minor ORDER BY minor_num) FILTER (WHERE list_contains(support_plans, 'KubernetesOfficial')) AS official,
           list(minor ORDER BY minor_num) FILTER (WHERE list_contains(support_plans, 'AKSLongTermSupport')) AS lts
    FROM region_versions WHERE NOT is_preview GROUP BY location
),
judged AS (
    SELECT c.*, s.official, s.lts,
           err.message AS evidence_error
    FROM clusters c
    LEFT JOIN supported s USING (location)
    LEFT JOIN (SELECT scope, min(message) AS message FROM scan_errors
               WHERE call = 'kubernetes_versions' GROUP BY scope) err ON err.scope = c.location
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE
        WHEN current_minor IS NULL THEN 'unknown'
        WHEN official IS NULL AND lts IS NULL THEN 'unknown'
        WHEN list_contains(official, current_minor) THEN 'pass'
        WHEN lts_eligible AND list_contains(lts, current_minor) THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN current_minor IS NULL THEN 'currentKubernetesVersion is missing from the cluster payload'
        WHEN official IS NULL AND lts IS NULL THEN
            'supported versions for ' || location || ' were not collected: ' || coalesce(evidence_error, 'no evidence')
        WHEN list_contains(official, current_minor) THEN
            'control plane ' || current_kubernetes_version || ' is supported in ' || location
        WHEN lts_eligible AND list_contains(lts, current_minor) THEN
            'control plane ' || current_kubernetes_version || ' is supported in ' || location || ' under LTS (Premium)'
        WHEN list_contains(lts, current_minor) THEN
            'control plane ' || current_kubernetes_version || ' is only supported under LTS, which needs supportPlan '
            || 'AKSLongTermSupport and tier Premium (cluster: ' || support_plan || ', ' || coalesce(sku_tier, 'no tier') || ')'
        ELSE
            'control plane ' || current_kubernetes_version || ' is not supported in ' || location
            || ' (supported: ' || array_to_string(official, ', ') || ')'
    END AS message,
    'currentKubernetesVersion=' || coalesce(current_kubernetes_version, 'null') || '; supportPlan=' || support_plan
        || '; tier=' || coalesce(sku_tier, 'null') || '; region ' || location || ' lists '
        || coalesce(array_to_string(official, ','), 'nothing') AS evidence,
    -- The oldest supported minor: upgrades go one minor at a time.
    coalesce(official[1], current_minor) AS target
FROM judged;
