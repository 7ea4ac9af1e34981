-- AKS-IMG-01: node image age, from the date inside nodeImageVersion (parsed from the right). Linux images ship about
-- weekly, Windows images monthly, and a regional rollout takes up to two weeks (upgrade-node-image.md), so:
--   * an image that is the newest the region offers for its family (latest_images) passes whatever its age;
--   * otherwise the limit is per OS family: [image_max_age_days] for Linux, [windows_image_max_age_days] for Windows;
--   * Microsoft does not support node images older than 90 days (support-policies.md): the message says so, and the
--     newest image of a family that old (a frozen family) is a warning, not a pass.
-- The status is decided once (`reason`), then worded.
WITH judged AS (
    SELECT
        p.cluster_id, p.pool_name, p.pool_problem, p.image_problem, p.node_image_version, p.image_family,
        p.image_date, p.os_type, c.location, li.latest_node_image_version AS latest,
        li.latest_image_date AS latest_date,
        lower(p.os_type) = 'windows' OR p.image_family ILIKE 'AKSWindows%' AS windows,
        cp.windows_image_max_age_days, cp.image_max_age_days,
        date_diff('day', p.image_date, s.as_of) AS age,
        -- Microsoft does not support node images older than 90 days (support-policies.md, as above).
        date_diff('day', p.image_date, s.as_of) > 90 AS past_support,
        s.as_of
    FROM node_pools p
    JOIN clusters c USING (cluster_id)
    JOIN cluster_params cp USING (cluster_id)
    CROSS JOIN scan s
    LEFT JOIN latest_images li ON li.location = c.location AND li.image_family = p.image_family
),
limited AS (
    SELECT *, CASE WHEN windows THEN windows_image_max_age_days ELSE image_max_age_days END AS max_age FROM judged
),
decided AS (
    SELECT *,
        CASE
            WHEN pool_problem IS NOT NULL THEN 'malformed_pool'
            WHEN image_problem IS NOT NULL THEN 'future_date'
            WHEN image_date IS NULL THEN 'no_date'
            WHEN latest IS NOT NULL AND (lower(node_image_version) = lower(latest) OR image_date >= latest_date)
                THEN CASE WHEN past_support THEN 'newest_unsupported' ELSE 'newest' END
            WHEN past_support THEN 'unsupported'
            WHEN age > max_age THEN 'too_old'
            ELSE 'recent'
        END AS reason
    FROM limited
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    CASE reason
        WHEN 'newest' THEN 'pass'
        WHEN 'recent' THEN 'pass'
        WHEN 'newest_unsupported' THEN 'warn'
        WHEN 'unsupported' THEN 'fail'
        WHEN 'too_old' THEN 'fail'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'malformed_pool' THEN pool_problem
        WHEN 'future_date' THEN image_problem
        WHEN 'no_date' THEN
            'node image version ' || coalesce('''' || node_image_version || '''', 'missing')
            || ' has no date this tool can read'
        WHEN 'newest' THEN
            'node image ' || node_image_version || ' is ' || days_text(age) || ' old and the newest ' || image_family
            || ' image in ' || location || ' (the age limit applies only while a newer image is available)'
        WHEN 'newest_unsupported' THEN
            'node image ' || node_image_version || ' is the newest ' || image_family || ' image in ' || location
            || ' but ' || days_text(age) || ' old: Microsoft does not support node images older than 90 days, so the family '
            || 'is no longer updated (see AKS-OS-01)'
        WHEN 'unsupported' THEN
            'node image ' || node_image_version || ' is ' || days_text(age) || ' old: Microsoft does not support node images '
            || 'older than 90 days (' || CASE WHEN windows THEN 'Windows' ELSE 'Linux' END || ' limit ' || max_age || ')'
        WHEN 'too_old' THEN
            'node image ' || node_image_version || ' is ' || days_text(age) || ' old (' || CASE WHEN windows THEN 'Windows'
            ELSE 'Linux' END || ' limit ' || max_age || ')' || coalesce('; the newest in ' || location || ' is ' || latest, '')
        ELSE
            'node image ' || node_image_version || ' is ' || days_text(age) || ' old (' || CASE WHEN windows THEN 'Windows'
            ELSE 'Linux' END || ' limit ' || max_age || ')'
    END AS message,
    'nodeImageVersion=' || coalesce(node_image_version, 'null') || '; osType=' || coalesce(os_type, 'null')
        || '; released ' || coalesce(CAST(image_date AS VARCHAR), 'unknown') || '; latest for '
        || coalesce(location, '?') || '|' || coalesce(image_family, '?') || '=' || coalesce(latest, 'not collected')
        || '; as of ' || CAST(as_of AS VARCHAR) AS evidence,
    NULL AS target
FROM decided
UNION ALL
-- Nodes outside agent pools (queries/model/25_unseen_nodes.sql): nothing to judge, so never a pass.
SELECT cluster_id, node_pool, status, detail, evidence, NULL FROM unseen_nodes;
