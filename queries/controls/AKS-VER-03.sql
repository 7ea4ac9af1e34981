-- AKS-VER-03: the control plane runs the newest patch of its minor that its support plan gets in its region
-- (region_minors, from the kubernetesVersions list). A cluster that is not LTS-eligible is compared only with the
-- patches listed under KubernetesOfficial: a patch the region offers only under AKSLongTermSupport is never its
-- target. Patches compare by number, never as text. The status is decided once (`reason`), then worded.
WITH region_errors AS (
    SELECT lower(regexp_replace(scope, '\s', '', 'g')) AS location,
           min(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message)) AS error
    FROM scan_errors WHERE call = 'kubernetes_versions' GROUP BY ALL
),
region_broken AS (
    SELECT location, min(problem) FILTER (WHERE whole_list) AS list_problem FROM region_problems GROUP BY location
),
judged AS (
    SELECT
        c.cluster_id, c.location, c.current_kubernetes_version, c.current_minor, c.lts_eligible, c.version_evidence,
        coalesce(c.version_problem, c.support_plan_problem) AS problem,
        patch_num(c.current_kubernetes_version) AS current_patch,
        c.location IN (SELECT location FROM region_lists) AS collected, e.error, b.list_problem,
        m.minor_num IS NOT NULL AS listed, m.official, m.lts, m.problem AS minor_problem,
        -- The patches this cluster may move to: under its plan (LTS-eligible clusters get both lists).
        CASE WHEN c.lts_eligible
             THEN list_transform(list_sort(list_transform(list_distinct(list_concat(m.official_patches, m.lts_patches)),
                                                          lambda p: {'n': patch_num(p), 'v': p})), lambda s: s.v)
             ELSE m.official_patches END AS patches,
        m.lts_patches
    FROM clusters c
    LEFT JOIN region_errors e ON e.location = c.location
    LEFT JOIN region_broken b ON b.location = c.location
    LEFT JOIN region_minors m ON m.location = c.location AND m.minor_num = c.current_minor_num
),
measured AS (
    SELECT *,
        patches[len(patches)] AS newest_patch,
        list_filter(patches, lambda p: patch_num(p) > current_patch) AS newer,
        -- LTS-only patches newer than what runs, kept out of a standard-plan cluster's comparison.
        list_filter(list_filter(lts_patches, lambda p: NOT list_contains(patches, p)),
                    lambda p: patch_num(p) > current_patch) AS lts_only_newer
    FROM judged
),
named AS (
    SELECT *, nullif(array_to_string(lts_only_newer, ', '), '') AS lts_only_newer_text FROM measured
),
decided AS (
    SELECT *,
        CASE
            WHEN problem IS NOT NULL THEN 'malformed_cluster'
            WHEN NOT collected THEN 'not_collected'
            WHEN list_problem IS NOT NULL THEN 'malformed_list'
            WHEN minor_problem IS NOT NULL THEN 'malformed_entry'
            WHEN NOT listed OR (NOT official AND NOT lts) THEN 'minor_gone'
            WHEN NOT official AND NOT lts_eligible THEN 'lts_only_minor'
            WHEN len(patches) = 0 THEN 'no_patches'
            WHEN len(newer) = 0 THEN 'newest'
            ELSE 'behind'
        END AS reason
    FROM named
),
statused AS (
    SELECT *,
        CASE reason
            WHEN 'newest' THEN 'pass'
            WHEN 'behind' THEN 'fail'
            WHEN 'minor_gone' THEN 'not_applicable'
            WHEN 'lts_only_minor' THEN 'not_applicable'
            ELSE 'unknown'
        END AS status
    FROM decided
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    status,
    CASE reason
        WHEN 'malformed_cluster' THEN problem || ': no patch version to compare'
        WHEN 'not_collected' THEN
            'supported versions for ' || location || ' were not collected: ' || coalesce(error, 'no evidence')
        WHEN 'malformed_list' THEN list_problem
        WHEN 'malformed_entry' THEN 'the entry for ' || current_minor || ' cannot be read: ' || minor_problem
        WHEN 'minor_gone' THEN
            current_minor || ' is no longer offered in ' || location
            || ', so there is no newer patch of it to compare with (see AKS-VER-01)'
        WHEN 'lts_only_minor' THEN
            location || ' offers ' || current_minor || ' only under LTS, which this cluster is not on: no patch of it is '
            || 'a target for it (see AKS-VER-01)'
        WHEN 'no_patches' THEN location || ' lists ' || current_minor || ' without patch versions'
        WHEN 'newest' THEN
            'control plane ' || current_kubernetes_version || ' is the newest patch of ' || current_minor || ' in '
            || location || CASE WHEN lts_eligible THEN ' under LTS' ELSE '' END
            || coalesce(' (newer patches offered only under LTS are not counted: ' || lts_only_newer_text || ')', '')
        ELSE
            'control plane ' || current_kubernetes_version || ' is behind the newest patch ' || newest_patch || ' of '
            || current_minor || ' in ' || location || ' (' || len(newer) || ' newer: ' || array_to_string(newer, ', ')
            || ')'
            || coalesce('; patches offered only under LTS are not counted: ' || lts_only_newer_text, '')
    END AS message,
    version_evidence || '; region ' || coalesce(location, '?')
        || CASE WHEN NOT collected THEN ' not collected'
                WHEN NOT listed THEN ' does not list ' || coalesce(current_minor, '?')
                ELSE ' lists patches of ' || current_minor || CASE WHEN lts_eligible THEN ' (any plan)' ELSE
                     ' (KubernetesOfficial)' END || ': ' || coalesce(array_to_string(patches, ','), 'none') END
        AS evidence,
    CASE WHEN reason = 'behind' THEN newest_patch END AS target
FROM statused;
