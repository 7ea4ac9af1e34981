-- Supported minors per region, from the kubernetesVersions list (envelope key `values`).
CREATE OR REPLACE TEMP TABLE region_versions AS
WITH listed AS (
    SELECT lower(e.scope) AS location, unnest(CAST(e.payload->'$.values' AS JSON[])) AS v
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'kubernetes_versions'
)
SELECT
    location,
    v->>'$.version'                                                     AS minor,
    CAST(coalesce(v->'$.capabilities.supportPlan', '[]'::JSON) AS VARCHAR[]) AS support_plans,
    coalesce(CAST(v->>'$.isPreview' AS BOOLEAN), false)                 AS is_preview,
    coalesce(json_keys(v->'$.patchVersions'), [])                       AS patches
FROM listed;
