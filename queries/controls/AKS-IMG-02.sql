-- AKS-IMG-02: each pool runs the latest node image of its (region, image family), as reported by the agent-pool
-- upgrade profile (latest_images). `unknown` when that profile call failed (scan_errors: call
-- 'pool_upgrade_profile', scope 'location|family' or 'location|family|pool') or was never made, when the pool entry
-- is malformed, or when the pool's image is dated after the scan (its version cannot be trusted).
-- The status is decided once (`reason`), then worded.
WITH profile_errors AS (
    SELECT lower(regexp_replace(split_part(scope, '|', 1), '\s', '', 'g')) AS location,
           split_part(scope, '|', 2) AS image_family,
           min(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message)) AS error
    FROM scan_errors WHERE call = 'pool_upgrade_profile' GROUP BY ALL
),
judged AS (
    SELECT
        p.cluster_id, p.pool_name, p.pool_problem, p.image_problem, p.node_image_version, p.image_family,
        p.image_date, c.location, li.latest_node_image_version AS latest,
        li.latest_image_date AS latest_date, e.error
    FROM node_pools p
    JOIN clusters c USING (cluster_id)
    LEFT JOIN latest_images li ON li.location = c.location AND li.image_family = p.image_family
    LEFT JOIN profile_errors e ON e.location = c.location AND e.image_family = p.image_family
),
decided AS (
    SELECT *,
        CASE
            WHEN pool_problem IS NOT NULL THEN 'malformed_pool'
            WHEN image_problem IS NOT NULL THEN 'future_date'
            WHEN node_image_version IS NULL THEN 'no_image'
            WHEN image_family IS NULL THEN 'no_family'
            WHEN latest IS NULL AND error IS NOT NULL THEN 'profile_failed'
            WHEN latest IS NULL THEN 'profile_missing'
            WHEN lower(node_image_version) = lower(latest) THEN 'latest'
            WHEN image_date > latest_date THEN 'newer'
            ELSE 'behind'
        END AS reason
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    CASE reason WHEN 'latest' THEN 'pass' WHEN 'newer' THEN 'pass' WHEN 'behind' THEN 'fail' ELSE 'unknown' END
        AS status,
    CASE reason
        WHEN 'malformed_pool' THEN pool_problem
        WHEN 'future_date' THEN image_problem
        WHEN 'no_image' THEN 'the pool has no nodeImageVersion'
        WHEN 'no_family' THEN
            'node image version ''' || node_image_version || ''' has no image family this tool can read'
        WHEN 'profile_failed' THEN
            'the latest image of ' || image_family || ' in ' || location || ' was not collected: ' || error
        WHEN 'profile_missing' THEN 'no upgrade profile was collected for ' || image_family || ' in ' || location
        WHEN 'latest' THEN 'pool runs ' || node_image_version || ', the latest ' || image_family || ' image in ' || location
        WHEN 'newer' THEN
            'pool runs ' || node_image_version || ', newer than the latest the upgrade profile reports (' || latest || ')'
        ELSE
            'pool runs ' || node_image_version || coalesce(' (released ' || CAST(image_date AS VARCHAR) || ')', '')
            || ' but the latest in ' || location || ' is ' || latest
            || coalesce(' (released ' || CAST(latest_date AS VARCHAR) || ', '
                        || days_text(date_diff('day', image_date, latest_date)) || ' newer)', '')
    END AS message,
    'nodeImageVersion=' || coalesce(node_image_version, 'null') || '; latestNodeImageVersion for '
        || coalesce(location, '?') || '|' || coalesce(image_family, '?') || '=' || coalesce(latest, 'not collected')
        AS evidence,
    CASE WHEN reason = 'behind' THEN latest END AS target
FROM decided
UNION ALL
-- Nodes outside agent pools (queries/model/25_unseen_nodes.sql): nothing to judge, so never a pass.
SELECT cluster_id, node_pool, status, detail, evidence, NULL FROM unseen_nodes;
