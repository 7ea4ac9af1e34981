-- `auditor export`: one row per managed cluster per scan, shaped from the raw Resource Graph rows of every
-- scan (the columns of queries/model/10_clusters.sql, for all scans at once). $scan_ids: the scans of one partition.
-- The payloads are read as queries/shape/clusters.sql parses them (each once).
SELECT
    c.scan_id,
    s.started_at                                              AS scan_started_at,
    c.cluster_id,
    c.name_text                                               AS name,
    lower(c.subscription_text)                                AS subscription_id,
    c.group_text                                              AS resource_group,
    lower(c.location_text)                                    AS location,
    CASE WHEN json_type(c.tags_json) = 'OBJECT' THEN CAST(c.tags_json AS VARCHAR) ELSE '{}' END AS tags_json,
    c.environment_text                                        AS environment_tag,
    c.tier_text                                               AS sku_tier,
    coalesce(c.support_plan_text, 'KubernetesOfficial')       AS support_plan,
    c.requested_version_text                                  AS kubernetes_version,
    c.current_version_text                                    AS current_kubernetes_version,
    regexp_extract(c.current_version_text, '^(\d+\.\d+)', 1)  AS current_minor,
    lower(coalesce(c.channel_text, 'none'))                   AS upgrade_channel,
    c.node_os_text                                            AS node_os_upgrade_channel,
    coalesce(c.power_text, 'Running')                         AS power_state,
    c.state_text                                              AS provisioning_state,
    CASE WHEN json_type(c.pools_json) = 'ARRAY' THEN json_array_length(c.pools_json) ELSE 0 END AS pools
FROM shaped_clusters($scan_ids) c
JOIN scans s USING (scan_id)
