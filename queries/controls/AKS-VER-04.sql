-- AKS-VER-04: every node pool runs the control plane's minor. Both sides use what runs (currentOrchestratorVersion,
-- and the cluster's version as clusters.version_field says), not an alias like 1.36 that was asked for.
-- The status is decided once (`reason`), then worded.
WITH judged AS (
    SELECT
        p.cluster_id, p.pool_name, p.pool_problem, p.provisioning_state,
        p.current_orchestrator_version, p.orchestrator_version, p.current_minor_num AS pool_minor_num,
        coalesce(p.current_orchestrator_version, p.orchestrator_version) AS pool_version,
        c.current_kubernetes_version, c.current_minor, c.current_minor_num AS cp_minor_num, c.version_evidence,
        c.version_problem
    FROM node_pools p
    JOIN clusters c USING (cluster_id)
),
decided AS (
    SELECT *,
        CASE
            WHEN pool_problem IS NOT NULL THEN 'malformed_pool'
            WHEN version_problem IS NOT NULL THEN 'malformed_cluster'
            WHEN pool_minor_num IS NULL THEN 'pool_version_unreadable'
            WHEN pool_minor_num = cp_minor_num THEN 'same'
            WHEN pool_minor_num < cp_minor_num THEN 'lagging'
            ELSE 'ahead'
        END AS reason
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    CASE reason WHEN 'same' THEN 'pass' WHEN 'lagging' THEN 'fail' WHEN 'ahead' THEN 'fail' ELSE 'unknown' END
        AS status,
    CASE reason
        WHEN 'malformed_pool' THEN pool_problem
        WHEN 'malformed_cluster' THEN version_problem || ': nothing to compare the pool with'
        WHEN 'pool_version_unreadable' THEN
            'the pool has no readable orchestrator version ('
            || coalesce('''' || pool_version || '''', 'none') || ')'
        WHEN 'same' THEN 'pool runs ' || pool_version || ', the control plane''s minor ' || current_minor
        WHEN 'lagging' THEN
            'pool runs ' || pool_version || ' but the control plane runs ' || current_kubernetes_version
            || ': the upgrade to ' || current_minor || ' is unfinished (' || (cp_minor_num - pool_minor_num)
            || ' minor(s) behind)'
            || CASE WHEN lower(coalesce(provisioning_state, '')) = 'upgrading' THEN '; the pool is upgrading now'
                    ELSE '' END
        ELSE 'pool runs ' || pool_version || ', a newer minor than the control plane ' || current_kubernetes_version
    END AS message,
    'pool currentOrchestratorVersion=' || coalesce(current_orchestrator_version, 'null') || '; orchestratorVersion='
        || coalesce(orchestrator_version, 'null') || '; provisioningState=' || coalesce(provisioning_state, 'null')
        || '; control plane ' || version_evidence AS evidence,
    CASE WHEN reason = 'lagging' THEN current_kubernetes_version END AS target
FROM decided;
