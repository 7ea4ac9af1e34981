-- AKS-IMG-02: each pool runs the latest node image of its (region, image family), as reported by the agent-pool
-- upgrade profile (latest_images). `unknown` when that profile call failed (scan_errors: call
-- 'pool_upgrade_profile', scope 'location|family' or 'location|family|pool') or was never made.
WITH profile_errors AS (
    SELECT lower(split_part(scope, '|', 1)) AS location, split_part(scope, '|', 2) AS image_family,
           any_value(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message)) AS error
    FROM scan_errors WHERE call = 'pool_upgrade_profile' GROUP BY ALL
),
judged AS (
    SELECT
        p.cluster_id, p.pool_name, p.node_image_version, p.image_family, p.image_date, c.location,
        li.latest_node_image_version AS latest, node_image_date(li.latest_node_image_version) AS latest_date,
        e.error
    FROM node_pools p
    JOIN clusters c USING (cluster_id)
    LEFT JOIN latest_images li ON li.location = c.location AND li.image_family = p.image_family
    LEFT JOIN profile_errors e ON e.location = c.location AND e.image_family = p.image_family
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    CASE
        WHEN node_image_version IS NULL OR image_family IS NULL THEN 'unknown'
        WHEN latest IS NULL THEN 'unknown'
        WHEN lower(node_image_version) = lower(latest) THEN 'pass'
        WHEN image_date > latest_date THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN node_image_version IS NULL THEN 'the pool has no nodeImageVersion'
        WHEN image_family IS NULL THEN
            'node image version ''' || node_image_version || ''' has no image family this tool can read'
        WHEN latest IS NULL AND error IS NOT NULL THEN
            'the latest image of ' || image_family || ' in ' || location || ' was not collected: ' || error
        WHEN latest IS NULL THEN
            'no upgrade profile was collected for ' || image_family || ' in ' || location
        WHEN lower(node_image_version) = lower(latest) THEN
            'pool runs ' || node_image_version || ', the latest ' || image_family || ' image in ' || location
        WHEN image_date > latest_date THEN
            'pool runs ' || node_image_version || ', newer than the latest the upgrade profile reports (' || latest || ')'
        ELSE
            'pool runs ' || node_image_version || coalesce(' (released ' || CAST(image_date AS VARCHAR) || ')', '')
            || ' but the latest in ' || location || ' is ' || latest
            || coalesce(' (released ' || CAST(latest_date AS VARCHAR) || ', '
                        || days_text(date_diff('day', image_date, latest_date)) || ' newer)', '')
    END AS message,
    'nodeImageVersion=' || coalesce(node_image_version, 'null') || '; latestNodeImageVersion for ' || location || '|'
        || coalesce(image_family, '?') || '=' || coalesce(latest, 'not collected') AS evidence,
    latest AS target
FROM judged;
