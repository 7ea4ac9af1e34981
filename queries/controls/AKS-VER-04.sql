-- AKS-VER-04: every node pool runs the control plane's minor. Both sides use what runs
-- (currentOrchestratorVersion, currentKubernetesVersion), not what was asked for, which may be an alias like 1.36.
SELECT
    p.cluster_id AS resource_id,
    p.pool_name AS node_pool,
    CASE
        WHEN p.current_minor_num IS NULL OR c.current_minor_num IS NULL THEN 'unknown'
        WHEN p.current_minor_num = c.current_minor_num THEN 'pass'
        ELSE 'fail'
    END AS status,
    CASE
        WHEN c.current_minor_num IS NULL THEN
            'the control plane version is missing from the cluster payload: nothing to compare the pool with'
        WHEN p.current_minor_num IS NULL THEN
            'the pool has no readable orchestrator version'
        WHEN p.current_minor_num = c.current_minor_num THEN
            'pool runs ' || coalesce(p.current_orchestrator_version, p.orchestrator_version)
            || ', the control plane''s minor ' || c.current_minor
        WHEN p.current_minor_num < c.current_minor_num THEN
            'pool runs ' || coalesce(p.current_orchestrator_version, p.orchestrator_version) || ' but the control plane runs '
            || c.current_kubernetes_version || ': the upgrade to ' || c.current_minor || ' is unfinished ('
            || (c.current_minor_num - p.current_minor_num) || ' minor(s) behind)'
            || CASE WHEN lower(coalesce(p.provisioning_state, '')) = 'upgrading'
                    THEN '; the pool is upgrading now' ELSE '' END
        ELSE
            'pool runs ' || coalesce(p.current_orchestrator_version, p.orchestrator_version)
            || ', a newer minor than the control plane ' || c.current_kubernetes_version
    END AS message,
    'pool currentOrchestratorVersion=' || coalesce(p.current_orchestrator_version, 'null') || '; orchestratorVersion='
        || coalesce(p.orchestrator_version, 'null') || '; provisioningState=' || coalesce(p.provisioning_state, 'null')
        || '; control plane currentKubernetesVersion=' || coalesce(c.current_kubernetes_version, 'null') AS evidence,
    c.current_kubernetes_version AS target
FROM node_pools p
JOIN clusters c USING (cluster_id);
