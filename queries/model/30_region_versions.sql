-- Supported minors per region, from the kubernetesVersions list (envelope key `values`). Shapes are checked, never
-- cast blindly: a list or an entry of the wrong shape is recorded in region_problems and judged `unknown` by the
-- controls that need it, instead of failing the evaluation of the whole scan.
CREATE OR REPLACE TEMP TABLE region_lists AS
SELECT
    lower(regexp_replace(e.scope, '\s', '', 'g'))  AS location,
    e.payload                                      AS body,
    json_type(e.payload, '$.values')               AS values_type
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'kubernetes_versions';

CREATE OR REPLACE TEMP TABLE region_version_entries AS
WITH listed AS (
    SELECT location,
           unnest(CAST(body->'$.values' AS JSON[])) AS v,
           generate_subscripts(CAST(body->'$.values' AS JSON[]), 1) - 1 AS entry_index
    FROM region_lists
    WHERE values_type = 'ARRAY'
)
SELECT
    location,
    entry_index,
    CASE WHEN json_type(v, '$.version') = 'VARCHAR' AND regexp_full_match(trim(v->>'$.version'), '\d+\.\d+')
         THEN trim(v->>'$.version') END                                          AS minor,
    CASE WHEN json_type(v, '$.capabilities.supportPlan') = 'ARRAY'
         THEN TRY_CAST(v->'$.capabilities.supportPlan' AS VARCHAR[]) END         AS support_plans,
    coalesce(TRY_CAST(v->>'$.isPreview' AS BOOLEAN), false)                      AS is_preview,
    CASE WHEN json_type(v, '$.patchVersions') = 'OBJECT' THEN json_keys(v, '$.patchVersions')
         WHEN json_type(v, '$.patchVersions') IS NULL OR json_type(v, '$.patchVersions') = 'NULL' THEN [] END
                                                                                 AS patches,
    CASE
        WHEN json_type(v) <> 'OBJECT' THEN 'entry ' || entry_index || ' is ' || json_kind(json_type(v)) || ', not an object'
        WHEN json_type(v, '$.version') IS DISTINCT FROM 'VARCHAR'
             OR NOT regexp_full_match(trim(v->>'$.version'), '\d+\.\d+') THEN
            'entry ' || entry_index || ' has no readable version (' || coalesce(CAST(v->'$.version' AS VARCHAR), 'none')
            || ')'
        WHEN json_type(v, '$.capabilities.supportPlan') IS DISTINCT FROM 'ARRAY' THEN
            trim(v->>'$.version') || ': capabilities.supportPlan is '
            || json_kind(json_type(v, '$.capabilities.supportPlan')) || ', not a list'
        WHEN TRY_CAST(v->'$.capabilities.supportPlan' AS VARCHAR[]) IS NULL THEN
            trim(v->>'$.version') || ': capabilities.supportPlan is not a list of strings'
        WHEN json_type(v, '$.patchVersions') NOT IN ('OBJECT', 'NULL') THEN
            trim(v->>'$.version') || ': patchVersions is ' || json_kind(json_type(v, '$.patchVersions')) || ', not an object'
    END                                                                          AS problem
FROM listed;

-- Why a region's list (or part of it) cannot be read: one line per region.
CREATE OR REPLACE TEMP TABLE region_problems AS
SELECT location, 'the kubernetesVersions list of ' || location || ' is malformed: values is '
       || json_kind(values_type) || ', not a list' AS problem, true AS whole_list
FROM region_lists WHERE values_type IS DISTINCT FROM 'ARRAY'
UNION ALL
SELECT location, 'the kubernetesVersions list of ' || location || ' has malformed entries: '
       || string_agg(problem, '; ' ORDER BY entry_index), false
FROM region_version_entries WHERE problem IS NOT NULL AND minor IS NULL
GROUP BY location;

-- One row per well-formed entry (AKS may list a minor in more than one entry, one per support plan).
CREATE OR REPLACE TEMP TABLE region_versions AS
SELECT
    location, minor, support_plans, is_preview, patches,
    minor_num(minor)                                                        AS minor_num,
    -- Newest patch by patch number (text order would put 1.33.10 before 1.33.9).
    patches[list_position(list_transform(patches, lambda p: patch_num(p)),
                          list_max(list_transform(patches, lambda p: patch_num(p))))] AS newest_patch
FROM region_version_entries
WHERE problem IS NULL;

-- One row per (region, minor): which plans offer it outside preview, and its patches under each, in numeric order.
-- A patch listed only in entries without KubernetesOfficial is offered only under LTS.
CREATE OR REPLACE TEMP TABLE region_minors AS
WITH patches AS (
    SELECT location, minor_num, unnest(patches) AS patch,
           list_contains(support_plans, 'KubernetesOfficial') AS official,
           list_contains(support_plans, 'AKSLongTermSupport') AS lts
    FROM region_versions WHERE NOT is_preview
),
per_minor AS (
    SELECT location, minor_num,
           min(minor)                                                                         AS minor,
           bool_or(list_contains(support_plans, 'KubernetesOfficial')) FILTER (WHERE NOT is_preview) AS official,
           bool_or(list_contains(support_plans, 'AKSLongTermSupport')) FILTER (WHERE NOT is_preview) AS lts,
           bool_and(is_preview)                                                               AS preview_only
    FROM region_versions GROUP BY ALL
),
lists AS (
    SELECT location, minor_num,
           list_distinct(list(patch ORDER BY patch_num(patch), patch) FILTER (WHERE official)) AS official_patches,
           list_distinct(list(patch ORDER BY patch_num(patch), patch) FILTER (WHERE lts))      AS lts_patches
    FROM patches GROUP BY ALL
),
broken AS (
    SELECT location, minor_num(minor) AS minor_num, string_agg(problem, '; ' ORDER BY entry_index) AS problem
    FROM region_version_entries WHERE problem IS NOT NULL AND minor IS NOT NULL GROUP BY ALL
)
SELECT
    m.location, m.minor, m.minor_num,
    coalesce(m.official, false) AS official,
    coalesce(m.lts, false) AS lts,
    m.preview_only,
    -- list_distinct does not keep order: sort again by patch number.
    list_transform(list_sort(list_transform(coalesce(l.official_patches, []), lambda p: {'n': patch_num(p), 'v': p})),
                   lambda s: s.v)                                              AS official_patches,
    list_transform(list_sort(list_transform(coalesce(l.lts_patches, []), lambda p: {'n': patch_num(p), 'v': p})),
                   lambda s: s.v)                                              AS lts_patches,
    b.problem
FROM per_minor m
LEFT JOIN lists l USING (location, minor_num)
LEFT JOIN broken b USING (location, minor_num)
UNION ALL
-- A minor whose only entries are malformed still has a row, so a cluster on it is `unknown`, not "not listed".
SELECT b.location, NULL, b.minor_num, false, false, false, [], [], b.problem
FROM broken b
WHERE NOT EXISTS (SELECT 1 FROM region_versions r WHERE r.location = b.location AND r.minor_num = b.minor_num);
