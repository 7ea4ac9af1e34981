-- AKS-IMG-01: node image age, from the date inside nodeImageVersion (parsed from the right), against the threshold.
SELECT
    p.cluster_id AS resource_id,
    p.pool_name AS node_pool,
    CASE
        WHEN p.image_date IS NULL THEN 'unknown'
        WHEN date_diff('day', p.image_date, s.as_of) > cp.image_max_age_days THEN 'fail'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN p.image_date IS NULL THEN
            'node image version ' || coalesce('''' || p.node_image_version || '''', 'missing') || ' has no date this tool can read'
        ELSE 'node image ' || p.node_image_version || ' is ' || days_text(date_diff('day', p.image_date, s.as_of))
             || ' old (limit ' || cp.image_max_age_days || ')'
    END AS message,
    'nodeImageVersion=' || coalesce(p.node_image_version, 'null') || '; released ' || coalesce(CAST(p.image_date AS VARCHAR), 'unknown')
        || '; as of ' || CAST(s.as_of AS VARCHAR) AS evidence,
    NULL AS target
FROM node_pools p
JOIN cluster_params cp USING (cluster_id)
CROSS JOIN scan s;
