-- The period layer (auditor/period.py, docs/period.md): what every scan of the period saw, shaped from the raw
-- evidence as queries/model/ shapes one scan. Reads period_scans (idx, scan_id, started_at, in_period, partial):
-- the scans of one scope up to the end of the period, oldest first; the earlier ones are history, read only to
-- date when something began. Parameter: $ring_tag, the tag whose value names a cluster's environment.

-- Every cluster of every scan, with its environment (the ring tag's value, '(none)' without it). The payloads are
-- read as queries/shape/clusters.sql parses them (the model's shape).
CREATE OR REPLACE TEMP TABLE period_clusters AS
WITH shaped AS (
    SELECT
        s.idx,
        lower(c.cluster_id)                                         AS cluster_key,
        c.cluster_id,
        coalesce(c.name_text, '')                                   AS name,
        lower(coalesce(c.subscription_text, ''))                    AS subscription_id,
        coalesce(c.group_text, '')                                  AS resource_group,
        lower(coalesce(c.location_text, ''))                        AS location,
        -- Tags as sorted lower-cased 'name<US>value' strings (Azure tag names are case-insensitive).
        list_sort(coalesce(list_transform(
            map_entries(TRY_CAST(coalesce(c.tags_json, '{}'::JSON) AS MAP(VARCHAR, VARCHAR))),
            lambda t: lower(t.key) || chr(31) || lower(coalesce(t.value, ''))), []))  AS tag_pairs,
        c.current_version_text                                      AS version
    FROM shaped_clusters((SELECT list(scan_id) FROM period_scans)) c
    JOIN period_scans s USING (scan_id)
)
SELECT
    *,
    coalesce(nullif(split_part(list_filter(tag_pairs, lambda t: split_part(t, chr(31), 1) = lower($ring_tag))[1],
                               chr(31), 2), ''), '(none)') AS environment,
    minor_num(version)  AS minor_num,
    regexp_extract(version, '^\s*(\d+\.\d+)', 1) AS minor,
    patch_num(version)  AS patch_num
FROM shaped;

-- Every named agent pool of every scan, with its node image parsed (family, release date). The pools are read as
-- queries/shape/pools.sql parses them: only a list of pools has any.
CREATE OR REPLACE TEMP TABLE period_pools AS
SELECT
    s.idx,
    lower(p.cluster_id)                               AS cluster_key,
    p.name_text                                       AS pool_name,
    p.node_image_text                                 AS image_version,
    node_image_family(p.node_image_text)              AS image_family,
    node_image_date(p.node_image_text)                AS image_date
FROM shaped_pools((SELECT list(scan_id) FROM period_scans)) p
JOIN period_scans s USING (scan_id)
WHERE p.name_text IS NOT NULL;

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
