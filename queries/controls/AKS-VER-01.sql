-- AKS-VER-01: the control plane's minor is supported in its region under its support plan.
-- What runs: currentKubernetesVersion, else a full x.y.z kubernetesVersion (clusters.version_field says which).
-- LTS (supportPlan AKSLongTermSupport on Premium) supports only the two most recent patches of a minor it alone
-- covers: an LTS cluster two or more patches behind fails (long-term-support.md). The status is decided once
-- (`reason`), then the message is built from it.
WITH regions AS (
    SELECT location, bool_or(values_type = 'ARRAY') AS readable FROM region_lists GROUP BY location
),
region_broken AS (
    SELECT location, min(problem) FILTER (WHERE whole_list) AS list_problem,
           min(problem) FILTER (WHERE NOT whole_list) AS entries_problem
    FROM region_problems GROUP BY location
),
official AS (
    SELECT location, list(minor ORDER BY minor_num) AS minors
    FROM region_minors WHERE official GROUP BY location
),
region_errors AS (
    SELECT lower(regexp_replace(scope, '\s', '', 'g')) AS location,
           min(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message)) AS error
    FROM scan_errors WHERE call = 'kubernetes_versions' GROUP BY ALL
),
judged AS (
    SELECT
        c.cluster_id, c.location, c.current_kubernetes_version, c.current_minor, c.support_plan, c.sku_tier,
        c.lts_eligible, c.version_evidence,
        coalesce(c.version_problem, c.support_plan_problem) AS problem,
        r.location IS NOT NULL AS collected, e.error, b.list_problem, b.entries_problem,
        m.minor_num IS NOT NULL AS listed, m.official, m.lts, m.preview_only, m.problem AS minor_problem,
        m.lts_patches, o.minors AS official_minors,
        list_filter(m.lts_patches, lambda p: patch_num(p) > patch_num(c.current_kubernetes_version)) AS newer_lts
    FROM clusters c
    LEFT JOIN regions r ON r.location = c.location
    LEFT JOIN region_errors e ON e.location = c.location
    LEFT JOIN region_broken b ON b.location = c.location
    LEFT JOIN region_minors m ON m.location = c.location AND m.minor_num = c.current_minor_num
    LEFT JOIN official o ON o.location = c.location
),
decided AS (
    SELECT *,
        CASE
            WHEN problem IS NOT NULL THEN 'malformed_cluster'
            WHEN NOT collected THEN 'not_collected'
            WHEN list_problem IS NOT NULL THEN 'malformed_list'
            WHEN minor_problem IS NOT NULL THEN 'malformed_entry'
            WHEN official THEN 'official'
            WHEN lts AND lts_eligible AND len(newer_lts) >= 2 THEN 'lts_patch_behind'
            WHEN lts AND lts_eligible THEN 'lts'
            WHEN lts THEN 'lts_only'
            WHEN listed AND preview_only THEN 'preview_only'
            -- The minor may be in an entry that cannot be read: not provably unlisted.
            WHEN entries_problem IS NOT NULL THEN 'maybe_in_malformed'
            ELSE 'not_listed'
        END AS reason
    FROM judged
),
statused AS (
    SELECT *,
        CASE
            WHEN reason IN ('official', 'lts') THEN 'pass'
            WHEN reason IN ('lts_patch_behind', 'lts_only', 'preview_only', 'not_listed') THEN 'fail'
            ELSE 'unknown'
        END AS status
    FROM decided
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    status,
    CASE reason
        WHEN 'malformed_cluster' THEN problem
        WHEN 'not_collected' THEN
            'supported versions for ' || location || ' were not collected: ' || coalesce(error, 'no evidence')
        WHEN 'malformed_list' THEN list_problem
        WHEN 'malformed_entry' THEN 'the entry for ' || current_minor || ' cannot be read: ' || minor_problem
        WHEN 'official' THEN 'control plane ' || current_kubernetes_version || ' is supported in ' || location
        WHEN 'lts' THEN
            'control plane ' || current_kubernetes_version || ' is supported in ' || location || ' under LTS (Premium)'
            || CASE WHEN len(newer_lts) = 1 THEN '; one newer LTS patch exists (' || newer_lts[1]
                    || '): LTS supports only the two most recent patches' ELSE '' END
        WHEN 'lts_patch_behind' THEN
            'control plane ' || current_kubernetes_version || ' is ' || len(newer_lts) || ' LTS patches behind ('
            || array_to_string(newer_lts, ', ') || '): LTS supports only the two most recent patches of '
            || current_minor
        WHEN 'lts_only' THEN
            'control plane ' || current_kubernetes_version || ' is only supported under LTS, which needs supportPlan '
            || 'AKSLongTermSupport and tier Premium (cluster: ' || coalesce(support_plan, '?') || ', '
            || coalesce(sku_tier, 'no tier') || ')'
        WHEN 'preview_only' THEN
            'control plane ' || current_kubernetes_version || ' runs a minor ' || location
            || ' offers only in preview (supported: ' || coalesce(array_to_string(official_minors, ', '), 'none') || ')'
        WHEN 'maybe_in_malformed' THEN
            current_minor || ' is not among the readable entries of ' || location || '''s list: ' || entries_problem
        ELSE
            'control plane ' || current_kubernetes_version || ' is not supported in ' || location
            || ' (supported: ' || coalesce(array_to_string(official_minors, ', '), 'none') || ')'
    END AS message,
    version_evidence || '; supportPlan=' || coalesce(support_plan, 'unreadable') || '; tier='
        || coalesce(sku_tier, 'null') || '; region ' || coalesce(location, '?')
        || CASE WHEN NOT collected THEN ' not collected'
                ELSE ' lists ' || coalesce(array_to_string(official_minors, ','), 'nothing')
                     || CASE WHEN lts THEN '; LTS patches of ' || current_minor || ': '
                                  || coalesce(array_to_string(lts_patches, ','), 'none') ELSE '' END END AS evidence,
    CASE reason
        -- The newest LTS patch; otherwise the oldest supported minor (AKS lets an unsupported cluster go to it).
        WHEN 'lts_patch_behind' THEN lts_patches[len(lts_patches)]
        WHEN 'lts_only' THEN official_minors[1]
        WHEN 'not_listed' THEN official_minors[1]
    END AS target
FROM statused;
