-- The period layer (auditor/period.py, docs/period.md): what every scan of the period saw, shaped from the raw
-- evidence as queries/model/ shapes one scan. Reads period_scans (idx, scan_id, started_at, in_period, partial):
-- the scans of one scope up to the end of the period, oldest first; the earlier ones are history, read only to
-- date when something began. Parameter: $ring_tag, the tag whose value names a cluster's environment.

-- Every cluster of every scan, with its environment (the ring tag's value, '(none)' without it).
CREATE OR REPLACE TEMP TABLE period_clusters AS
WITH shaped AS (
    SELECT
        s.idx,
        lower(e.scope)                                              AS cluster_key,
        e.scope                                                     AS cluster_id,
        coalesce(e.payload->>'$.name', '')                          AS name,
        lower(coalesce(e.payload->>'$.subscriptionId', ''))         AS subscription_id,
        coalesce(e.payload->>'$.resourceGroup', '')                 AS resource_group,
        lower(coalesce(e.payload->>'$.location', ''))               AS location,
        -- Tags as sorted lower-cased 'name<US>value' strings (Azure tag names are case-insensitive).
        list_sort(coalesce(list_transform(
            map_entries(TRY_CAST(coalesce(e.payload->'$.tags', '{}'::JSON) AS MAP(VARCHAR, VARCHAR))),
            lambda t: lower(t.key) || chr(31) || lower(coalesce(t.value, ''))), []))  AS tag_pairs,
        e.payload->>'$.properties.currentKubernetesVersion'         AS version
    FROM evidence e
    JOIN period_scans s USING (scan_id)
    WHERE e.kind = 'cluster'
)
SELECT
    *,
    coalesce(nullif(split_part(list_filter(tag_pairs, lambda t: split_part(t, chr(31), 1) = lower($ring_tag))[1],
                               chr(31), 2), ''), '(none)') AS environment,
    minor_num(version)  AS minor_num,
    regexp_extract(version, '^\s*(\d+\.\d+)', 1) AS minor,
    patch_num(version)  AS patch_num
FROM shaped;

-- Every agent pool of every scan, with its node image parsed (family, release date).
CREATE OR REPLACE TEMP TABLE period_pools AS
WITH pools AS (
    SELECT s.idx, lower(e.scope) AS cluster_key,
           unnest(coalesce(TRY_CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[]), [])) AS pool
    FROM evidence e
    JOIN period_scans s USING (scan_id)
    WHERE e.kind = 'cluster'
)
SELECT
    idx,
    cluster_key,
    pool->>'$.name'                                   AS pool_name,
    pool->>'$.nodeImageVersion'                       AS image_version,
    node_image_family(pool->>'$.nodeImageVersion')    AS image_family,
    node_image_date(pool->>'$.nodeImageVersion')      AS image_date
FROM pools
WHERE pool->>'$.name' IS NOT NULL;

-- The newest node image of each region and image family in each scan (agent-pool upgrade profiles), newest by
-- the release date in the version, then by text, as queries/model/50_latest_images.sql.
CREATE OR REPLACE TEMP TABLE period_latest_images AS
SELECT
    s.idx,
    lower(split_part(e.scope, '|', 1))                                 AS location,
    split_part(e.scope, '|', 2)                                        AS image_family,
    arg_max(e.payload->>'$.properties.latestNodeImageVersion',
            (node_image_date(e.payload->>'$.properties.latestNodeImageVersion'),
             e.payload->>'$.properties.latestNodeImageVersion'))       AS version
FROM evidence e
JOIN period_scans s USING (scan_id)
WHERE e.kind = 'pool_upgrade_profile'
  AND node_image_date(e.payload->>'$.properties.latestNodeImageVersion') IS NOT NULL
GROUP BY ALL;

-- The newest patch of each Kubernetes minor in each region and scan (kubernetesVersions, envelope key `values`).
CREATE OR REPLACE TEMP TABLE period_newest_patches AS
WITH listed AS (
    SELECT s.idx, lower(e.scope) AS location, unnest(coalesce(TRY_CAST(e.payload->'$.values' AS JSON[]), [])) AS v
    FROM evidence e
    JOIN period_scans s USING (scan_id)
    WHERE e.kind = 'kubernetes_versions'
),
patches AS (
    SELECT idx, location, v->>'$.version' AS minor, unnest(coalesce(json_keys(v->'$.patchVersions'), [])) AS patch
    FROM listed
)
SELECT idx, location, minor, minor_num(minor) AS minor_num,
       arg_max(patch, (patch_num(patch), patch)) AS newest_patch,
       max(patch_num(patch))                     AS newest_patch_num
FROM patches
WHERE patch_num(patch) IS NOT NULL AND minor_num(minor) IS NOT NULL
GROUP BY ALL;
