-- AKS-VER-03: the control plane runs the newest patch of its minor offered in its region
-- (region_versions.patches, from the kubernetesVersions list). Patches compare by number, never as text.
WITH regions AS (
    SELECT DISTINCT location FROM region_versions
),
region_errors AS (
    SELECT lower(scope) AS location,
           min(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message)) AS error
    FROM scan_errors WHERE call = 'kubernetes_versions' GROUP BY ALL
),
judged AS (
    SELECT
        c.cluster_id, c.location, c.current_kubernetes_version, c.current_minor,
        patch_num(c.current_kubernetes_version) AS current_patch,
        r.location IS NOT NULL AS region_known, e.error,
        rv.minor AS listed_minor, rv.newest_patch, patch_num(rv.newest_patch) AS newest_patch_num,
        -- Patches in numeric order (a struct sorts by its first field).
        list_transform(list_sort(list_transform(rv.patches, lambda p: {'n': patch_num(p), 'v': p})), lambda s: s.v)
            AS patches,
        list_transform(list_sort(list_transform(
            list_filter(rv.patches, lambda p: patch_num(p) > patch_num(c.current_kubernetes_version)),
            lambda p: {'n': patch_num(p), 'v': p})), lambda s: s.v) AS newer
    FROM clusters c
    LEFT JOIN regions r ON r.location = c.location
    LEFT JOIN region_errors e ON e.location = c.location
    LEFT JOIN region_versions rv ON rv.location = c.location AND rv.minor_num = c.current_minor_num
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE
        WHEN current_patch IS NULL THEN 'unknown'
        WHEN NOT region_known THEN 'unknown'
        WHEN listed_minor IS NULL THEN 'not_applicable'
        WHEN newest_patch_num IS NULL THEN 'unknown'
        WHEN current_patch >= newest_patch_num THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN current_patch IS NULL THEN
            'currentKubernetesVersion ' || coalesce('''' || current_kubernetes_version || '''', 'is missing')
            || ': no patch version to compare'
        WHEN NOT region_known THEN
            'supported versions for ' || location || ' were not collected: ' || coalesce(error, 'no evidence')
        WHEN listed_minor IS NULL THEN
            current_minor || ' is no longer offered in ' || location
            || ', so there is no newer patch of it to compare with (see AKS-VER-01)'
        WHEN newest_patch_num IS NULL THEN
            location || ' lists ' || current_minor || ' without patch versions'
        WHEN current_patch >= newest_patch_num THEN
            'control plane ' || current_kubernetes_version || ' is the newest patch of ' || current_minor || ' in '
            || location
        ELSE
            'control plane ' || current_kubernetes_version || ' is behind the newest patch ' || newest_patch || ' of '
            || current_minor || ' in ' || location || ' (' || len(newer) || ' newer: ' || array_to_string(newer, ', ')
            || ')'
    END AS message,
    'currentKubernetesVersion=' || coalesce(current_kubernetes_version, 'null') || '; region ' || location
        || CASE WHEN NOT region_known THEN ' not collected'
                WHEN listed_minor IS NULL THEN ' does not list ' || coalesce(current_minor, '?')
                ELSE ' lists patches of ' || current_minor || ': ' || array_to_string(patches, ',') END AS evidence,
    newest_patch AS target
FROM judged;
