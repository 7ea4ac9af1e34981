-- AKS-HLT-01: neither the cluster nor any of its pools is left in provisioningState Failed (case-insensitive).
WITH pools AS (
    SELECT
        cluster_id,
        count(*) AS pool_count,
        list(pool_name ORDER BY pool_name) FILTER (WHERE lower(provisioning_state) = 'failed') AS failed,
        list(pool_name || ' ' || coalesce(provisioning_state, 'no state') ORDER BY pool_name)
            FILTER (WHERE lower(coalesce(provisioning_state, '')) <> 'succeeded') AS unsettled,
        string_agg(pool_name || '=' || coalesce(provisioning_state, 'null'), ', ' ORDER BY pool_name) AS states
    FROM node_pools GROUP BY cluster_id
),
judged AS (
    SELECT c.cluster_id, c.provisioning_state, coalesce(p.pool_count, 0) AS pool_count,
           coalesce(p.failed, []) AS failed, coalesce(p.unsettled, []) AS unsettled, p.states,
           lower(coalesce(c.provisioning_state, '')) = 'failed' AS cluster_failed
    FROM clusters c
    LEFT JOIN pools p USING (cluster_id)
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE
        WHEN cluster_failed OR len(failed) > 0 THEN 'fail'
        WHEN provisioning_state IS NULL THEN 'unknown'
        ELSE 'pass'
    END AS status,
    CASE
        WHEN cluster_failed AND len(failed) > 0 THEN
            'the cluster and pool(s) ' || array_to_string(failed, ', ') || ' are in provisioningState Failed'
        WHEN cluster_failed THEN 'the cluster is in provisioningState Failed'
        WHEN len(failed) > 0 THEN
            'pool(s) ' || array_to_string(failed, ', ') || ' of ' || pool_count || ' are in provisioningState Failed'
        WHEN provisioning_state IS NULL THEN
            'the cluster payload has no provisioningState' ||
            CASE WHEN pool_count > 0 THEN '; none of its ' || pool_count || ' pools is Failed' ELSE '' END
        ELSE
            'the cluster is ' || provisioning_state || ' and none of its ' || pool_count || ' pools is Failed'
            || CASE WHEN len(unsettled) > 0 THEN ' (' || array_to_string(unsettled, ', ') || ')' ELSE '' END
    END AS message,
    'provisioningState=' || coalesce(provisioning_state, 'null') || '; pools: ' || coalesce(states, 'none') AS evidence,
    NULL AS target
FROM judged;
