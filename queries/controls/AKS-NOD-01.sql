-- AKS-NOD-01: the nodes of a pool run what the pool's ARM record reports: its node image
-- (kubernetes.azure.com/node-image-version) and its Kubernetes minor (kubelet), and no node is left quarantined
-- (kubernetes.azure.com/upgrade-status=Quarantined, left by undrainableNodeBehavior Cordon) or cordoned once the
-- pool's operation is over. While the pool is still upgrading, a difference is a warn, not a fail.
WITH pool_nodes AS (
    SELECT
        p.cluster_id, p.pool_name,
        count(n.node_name) AS nodes,
        count(n.node_name) FILTER (WHERE n.node_image_version IS NOT NULL
                                   AND n.node_image_version <> p.node_image_version) AS other_image,
        count(n.node_name) FILTER (WHERE n.kubelet_minor_num IS NOT NULL
                                   AND n.kubelet_minor_num <> p.current_minor_num) AS other_kubelet,
        count(n.node_name) FILTER (WHERE n.quarantined) AS quarantined,
        count(n.node_name) FILTER (WHERE n.unschedulable AND NOT n.quarantined) AS cordoned,
        count(n.node_name) FILTER (WHERE n.node_image_version IS NULL OR n.kubelet_minor_num IS NULL) AS unreadable,
        string_agg(n.node_name || ' runs ' || n.node_image_version, ', ' ORDER BY n.node_name, n.node_image_version)
            FILTER (WHERE n.node_image_version <> p.node_image_version) AS image_text,
        string_agg(n.node_name || ' kubelet ' || n.kubelet_version, ', ' ORDER BY n.node_name, n.kubelet_version)
            FILTER (WHERE n.kubelet_minor_num <> p.current_minor_num) AS kubelet_text,
        string_agg(n.node_name, ', ' ORDER BY n.node_name) FILTER (WHERE n.quarantined) AS quarantined_text,
        string_agg(n.node_name, ', ' ORDER BY n.node_name) FILTER (WHERE n.unschedulable AND NOT n.quarantined)
            AS cordoned_text,
        string_agg(DISTINCT coalesce(n.node_image_version, 'no image label'), ', '
                   ORDER BY coalesce(n.node_image_version, 'no image label'))
            FILTER (WHERE n.node_name IS NOT NULL) AS images,
        string_agg(DISTINCT coalesce(n.kubelet_version, 'no kubelet version'), ', '
                   ORDER BY coalesce(n.kubelet_version, 'no kubelet version'))
            FILTER (WHERE n.node_name IS NOT NULL) AS kubelets
    FROM node_pools p
    LEFT JOIN k8s_nodes n ON n.cluster_id = p.cluster_id AND lower(n.pool_name) = lower(p.pool_name)
    GROUP BY p.cluster_id, p.pool_name
),
judged AS (
    SELECT
        p.cluster_id, p.pool_name, p.node_count, p.node_image_version, p.current_orchestrator_version,
        p.provisioning_state, s.missing_reason, s.has_nodes, s.unreadable_nodes,
        n.* EXCLUDE (cluster_id, pool_name),
        lower(coalesce(p.provisioning_state, 'succeeded')) NOT IN ('succeeded', 'failed', 'canceled') AS in_progress,
        lower(coalesce(p.power_state, 'running')) = 'stopped' OR coalesce(p.node_count, 0) = 0 AS no_nodes_expected,
        n.other_image + n.other_kubelet + n.quarantined + n.cordoned > 0 AS differs,
        n.nodes = 0 AS no_nodes,
        n.unreadable > 0 AS some_unreadable,
        s.unreadable_nodes > 0 AS unreadable_items
    FROM node_pools p
    JOIN k8s_status s USING (cluster_id)
    JOIN pool_nodes n USING (cluster_id, pool_name)
),
decided AS (
    SELECT *,
        CASE
            WHEN NOT has_nodes THEN 'unknown'
            WHEN no_nodes AND no_nodes_expected THEN 'pass'
            WHEN no_nodes THEN 'unknown'
            WHEN differs AND in_progress THEN 'warn'
            WHEN differs THEN 'fail'
            -- A node item that cannot be read could be one of this pool's: no pass without it.
            WHEN some_unreadable OR unreadable_items THEN 'unknown'
            ELSE 'pass'
        END AS status,
        concat_ws('; ',
            CASE WHEN other_image > 0 THEN other_image || ' on another node image than the pool''s '
                 || coalesce(node_image_version, 'unreported') || ' (' || image_text || ')' END,
            CASE WHEN other_kubelet > 0 THEN other_kubelet || ' on another Kubernetes minor than the pool''s '
                 || coalesce(current_orchestrator_version, 'unreported') || ' (' || kubelet_text || ')' END,
            CASE WHEN quarantined > 0 THEN quarantined || ' quarantined (an upgrade could not drain: '
                 || quarantined_text || ')' END,
            CASE WHEN cordoned > 0 THEN cordoned || ' cordoned (unschedulable: ' || cordoned_text || ')' END
        ) AS differences
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    status,
    CASE
        WHEN NOT has_nodes THEN missing_reason
        WHEN no_nodes AND status = 'pass' THEN 'the pool has no node to compare (stopped or scaled to zero)'
        WHEN no_nodes THEN
            'no node carries the label kubernetes.azure.com/agentpool=' || pool_name || ' although the pool reports '
            || coalesce(CAST(node_count AS VARCHAR), 'an unknown number of') || ' node(s)'
        WHEN status = 'warn' THEN
            'the pool is ' || provisioning_state || ': of its ' || nodes || ' node(s), ' || differences
            || ' (judged again once the operation completes)'
        WHEN status = 'fail' THEN
            'of the ' || nodes || ' node(s) of the pool, ' || differences
            || CASE WHEN lower(coalesce(provisioning_state, '')) = 'failed' THEN ' (the pool is Failed)' ELSE '' END
        WHEN status = 'unknown' THEN
            concat_ws('; ',
                CASE WHEN some_unreadable THEN unreadable || ' of ' || nodes
                     || ' node(s) report no node-image label or kubelet version to compare' END,
                CASE WHEN unreadable_items THEN unreadable_nodes || ' item(s) of the cluster''s node list cannot '
                     || 'be read (not an object, or without a name or readable labels): they may be this pool''s' END)
        ELSE 'all ' || nodes || ' node(s) run ' || coalesce(node_image_version, 'the pool''s image') || ' with kubelet '
             || kubelets || ', none quarantined or cordoned'
    END AS message,
    'pool nodeImageVersion=' || coalesce(node_image_version, 'null') || '; currentOrchestratorVersion='
        || coalesce(current_orchestrator_version, 'null') || '; provisioningState=' || coalesce(provisioning_state, 'null')
        || '; nodes=' || coalesce(CAST(nodes AS VARCHAR), '0') || '; node images: ' || coalesce(images, 'none')
        || '; kubelets: ' || coalesce(kubelets, 'none') AS evidence,
    NULL AS target
FROM decided;
