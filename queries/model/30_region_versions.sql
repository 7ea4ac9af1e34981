-- Supported minors per region, from the kubernetesVersions list (envelope key `values`).
CREATE OR REPLACE TEMP TABLE region_versions AS
WITH listed AS (
    SELECT lower(e.scope) AS location, unnest(CAST(e.payload->'$.values' AS JSON[])) AS v
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'kubernetes_versions'
),
shaped AS (
    SELECT
        location,
        v->>'$.version'                                                     AS minor,
        CAST(coalesce(v->'$.capabilities.supportPlan', '[]'::JSON) AS VARCHAR[]) AS support_plans,
        coalesce(CAST(v->>'$.isPreview' AS BOOLEAN), false)                 AS is_preview,
        coalesce(json_keys(v->'$.patchVersions'), [])                       AS patches
    FROM listed
)
SELECT
    *,
    minor_num(minor)                                                        AS minor_num,
    -- Newest patch by patch number (text order would put 1.33.10 before 1.33.9).
    patches[list_position(list_transform(patches, lambda p: patch_num(p)),
                          list_max(list_transform(patches, lambda p: patch_num(p))))] AS newest_patch
FROM shaped;
