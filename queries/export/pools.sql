-- `auditor export`: one row per agent pool per scan (the columns of queries/model/20_node_pools.sql, for all
-- scans at once), with the node image's release date and its age at the scan date. The pools are read as
-- queries/shape/pools.sql parses them: only a list of pools is unnested, so a malformed payload (docs/controls.md,
-- "Malformed evidence") exports no pools; an entry that is not an object exports a row of NULL fields.
WITH q AS (
    SELECT p.*, s.started_at,
           node_image_family(p.node_image_text) AS family,
           node_image_date(p.node_image_text) AS released
    FROM shaped_pools($scan_ids) p
    JOIN scans s USING (scan_id)
)
SELECT
    scan_id,
    started_at                                                  AS scan_started_at,
    cluster_id,
    name_text                                                   AS pool_name,
    coalesce(mode_text, 'User')                                 AS mode,
    coalesce(os_type_text, 'Linux')                             AS os_type,
    os_sku_text                                                 AS os_sku,
    TRY_CAST(count_text AS INTEGER)                             AS node_count,
    vm_size_text                                                AS vm_size,
    orchestrator_version_text                                   AS orchestrator_version,
    current_orchestrator_version_text                           AS current_orchestrator_version,
    regexp_extract(coalesce(current_orchestrator_version_text, orchestrator_version_text), '^(\d+\.\d+)', 1)
                                                                AS current_minor,
    node_image_text                                             AS node_image_version,
    family                                                      AS image_family,
    released                                                    AS image_date,
    date_diff('day', released, CAST(started_at AS DATE))        AS image_age_days,
    state_text                                                  AS provisioning_state,
    power_text                                                  AS power_state,
    max_surge_text                                              AS max_surge,
    max_unavailable_text                                        AS max_unavailable
FROM q
-- In the order of the evidence and of agentPoolProfiles: the same rows give the same file.
ORDER BY scan_id, seq, pool_index
