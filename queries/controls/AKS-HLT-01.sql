-- AKS-HLT-01: neither the cluster nor any of its pools is left in provisioningState Failed (case-insensitive).
-- A pass needs the evidence to show every pool: a cluster payload without a readable agentPoolProfiles list, or with
-- an entry that is null, not an object or nameless, is `unknown` unless something is already proven Failed.
-- The status is decided once (`reason`), then worded.
WITH pools AS (
    SELECT
        cluster_id,
        count(*) FILTER (WHERE pool_problem IS NULL) AS pool_count,
        list(pool_name ORDER BY pool_name) FILTER (WHERE lower(provisioning_state) = 'failed') AS failed,
        list(pool_name || ' ' || coalesce(provisioning_state, 'no state') ORDER BY pool_name)
            FILTER (WHERE pool_problem IS NULL AND lower(coalesce(provisioning_state, '')) <> 'succeeded') AS unsettled,
        string_agg(pool_problem, '; ' ORDER BY pool_index) AS pool_problems,
        string_agg(pool_name || '=' || coalesce(provisioning_state, 'null'), ', ' ORDER BY pool_name) AS states
    FROM node_pools GROUP BY cluster_id
),
judged AS (
    SELECT c.cluster_id, c.provisioning_state, coalesce(p.pool_count, 0) AS pool_count,
           coalesce(p.failed, []) AS failed, coalesce(p.unsettled, []) AS unsettled, p.states,
           coalesce(c.properties_problem, c.pools_problem) AS list_problem, p.pool_problems,
           lower(coalesce(c.provisioning_state, '')) = 'failed' AS cluster_failed
    FROM clusters c
    LEFT JOIN pools p USING (cluster_id)
),
decided AS (
    SELECT *,
        CASE
            WHEN cluster_failed AND len(failed) > 0 THEN 'both_failed'
            WHEN cluster_failed THEN 'cluster_failed'
            WHEN len(failed) > 0 THEN 'pools_failed'
            WHEN list_problem IS NOT NULL THEN 'pools_unreadable'
            WHEN pool_problems IS NOT NULL THEN 'pool_entries_unreadable'
            WHEN provisioning_state IS NULL THEN 'no_state'
            ELSE 'healthy'
        END AS reason
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE
        WHEN reason IN ('both_failed', 'cluster_failed', 'pools_failed') THEN 'fail'
        WHEN reason = 'healthy' THEN 'pass'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'both_failed' THEN
            'the cluster and pool(s) ' || array_to_string(failed, ', ') || ' are in provisioningState Failed'
        WHEN 'cluster_failed' THEN 'the cluster is in provisioningState Failed'
        WHEN 'pools_failed' THEN
            'pool(s) ' || array_to_string(failed, ', ') || ' of ' || pool_count || ' are in provisioningState Failed'
        WHEN 'pools_unreadable' THEN list_problem || ': the pools'' states are not known'
        WHEN 'pool_entries_unreadable' THEN pool_problems || ': that pool''s state is not known'
        WHEN 'no_state' THEN
            'the cluster payload has no provisioningState'
            || CASE WHEN pool_count > 0 THEN '; none of its ' || pool_count || ' pools is Failed' ELSE '' END
        ELSE
            'the cluster is ' || provisioning_state || ' and none of its ' || pool_count || ' pools is Failed'
            || CASE WHEN len(unsettled) > 0 THEN ' (' || array_to_string(unsettled, ', ') || ')' ELSE '' END
    END AS message,
    'provisioningState=' || coalesce(provisioning_state, 'null') || '; pools: '
        || coalesce(states, list_problem, 'none') AS evidence,
    NULL AS target
FROM decided;
