-- Inside the clusters (scan --kubernetes): nodes, PodDisruptionBudgets and the workloads they select, shaped from
-- the list payloads of auditor/collect/kubernetes.py. A kind missing for a cluster was not collected: the
-- controls say unknown and name the reason (k8s_status).

-- Whether a list item reads as a node / a workload the model can judge (see `unreadable` below).
CREATE OR REPLACE TEMP MACRO k8s_node_readable(n) AS coalesce(
    json_type(n) = 'OBJECT' AND json_type(json_extract(n, '$.metadata')) = 'OBJECT'
    AND json_type(json_extract(n, '$.metadata.name')) = 'VARCHAR'
    AND json_type(coalesce(json_extract(n, '$.metadata.labels'), '{}')) = 'OBJECT', false);
CREATE OR REPLACE TEMP MACRO k8s_workload_readable(w) AS coalesce(
    json_type(w) = 'OBJECT' AND json_type(json_extract(w, '$.metadata')) = 'OBJECT'
    AND json_type(json_extract(w, '$.metadata.name')) = 'VARCHAR'
    AND json_type(json_extract(w, '$.metadata.namespace')) = 'VARCHAR'
    AND json_type(coalesce(json_extract(w, '$.spec.template.metadata.labels'), '{}')) = 'OBJECT'
    AND json_type(coalesce(json_extract(w, '$.spec.replicas'), '0')) IN ('UBIGINT', 'BIGINT')
    AND json_listish(json_extract(w, '$.metadata.ownerReferences')), false);

-- Whether the scan read inside clusters at all, and per cluster what it got and why anything is missing.
CREATE OR REPLACE TEMP TABLE k8s_status AS
WITH requested AS (
    SELECT coalesce(json_type(scope->'$.kubernetes') = 'OBJECT', false) AS requested
    FROM scans WHERE scan_id = $scan_id
),
kinds AS (
    SELECT e.scope AS cluster_id,
           bool_or(e.kind = 'k8s_nodes') AS has_nodes,
           bool_or(e.kind = 'k8s_pod_disruption_budgets') AS has_pdbs,
           count(DISTINCT e.kind) FILTER (WHERE e.kind IN ('k8s_deployments', 'k8s_stateful_sets', 'k8s_replica_sets')) = 3
               AS has_workloads,
           max(e.payload->>'$.context') FILTER (WHERE e.kind = 'k8s_context') AS context,
           coalesce(max(json_array_length(e.payload->'$.items')) FILTER (WHERE e.kind = 'k8s_pod_disruption_budgets'), 0)
               AS pdb_count
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind LIKE 'k8s\_%' ESCAPE '\'
    GROUP BY e.scope
),
-- List items that cannot be read as what the list holds (not an object, no name or namespace, labels that are not
-- an object, replicas that are not a number, ownerReferences that are not a list): any of them could be the node or
-- the workload that decides a verdict, so the controls that count them say unknown instead of passing.
unreadable AS (
    SELECT e.scope AS cluster_id,
           count(*) FILTER (WHERE e.kind = 'k8s_nodes' AND NOT k8s_node_readable(item)) AS unreadable_nodes,
           count(*) FILTER (WHERE e.kind <> 'k8s_nodes' AND NOT k8s_workload_readable(item)) AS unreadable_workloads
    FROM evidence e, unnest(json_items(e.payload->'$.items')) AS t(item)
    WHERE e.scan_id = $scan_id
      AND e.kind IN ('k8s_nodes', 'k8s_deployments', 'k8s_stateful_sets', 'k8s_replica_sets')
    GROUP BY e.scope
),
errors AS (
    SELECT scope AS cluster_id,
           string_agg(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '')) || ': ' || message, ' | '
                      ORDER BY call, code, status, message) AS error
    FROM scan_errors
    WHERE call = 'kubernetes' OR call LIKE 'k8s\_%' ESCAPE '\'
    GROUP BY scope
)
SELECT
    c.cluster_id,
    (SELECT requested FROM requested) AS requested,
    lower(c.power_state) = 'stopped' AS stopped,
    coalesce(k.has_nodes, false) AS has_nodes,
    coalesce(k.has_pdbs, false) AS has_pdbs,
    coalesce(k.has_workloads, false) AS has_workloads,
    coalesce(k.pdb_count, 0) AS pdb_count,
    k.context,
    coalesce(u.unreadable_nodes, 0) AS unreadable_nodes,
    coalesce(u.unreadable_workloads, 0) AS unreadable_workloads,
    e.error,
    -- Why evidence is missing, in words, for the unknown findings.
    CASE
        WHEN NOT coalesce((SELECT requested FROM requested), false) THEN
            'no Kubernetes evidence: the scan did not read inside the clusters (auditor scan --kubernetes)'
        WHEN e.error IS NOT NULL THEN 'in-cluster evidence missing: ' || e.error
        WHEN lower(c.power_state) = 'stopped' THEN
            'no Kubernetes evidence: its API server is off while the cluster is stopped'
        ELSE 'no Kubernetes evidence was collected for this cluster'
    END AS missing_reason
FROM clusters c
LEFT JOIN kinds k USING (cluster_id)
LEFT JOIN unreadable u USING (cluster_id)
LEFT JOIN errors e USING (cluster_id);

-- One row per node. The pool is the reserved label kubernetes.azure.com/agentpool (or the deprecated agentpool);
-- `quarantined` is the label that undrainableNodeBehavior Cordon leaves (kubernetes.azure.com/upgrade-status).
CREATE OR REPLACE TEMP TABLE k8s_nodes AS
WITH items AS (
    SELECT e.scope AS cluster_id, unnest(json_items(e.payload->'$.items')) AS n
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'k8s_nodes'
)
SELECT
    cluster_id,
    n->>'$.metadata.name'                                                          AS node_name,
    coalesce(n->>'$.metadata.labels."kubernetes.azure.com/agentpool"',
             n->>'$.metadata.labels.agentpool')                                    AS pool_name,
    n->>'$.metadata.labels."kubernetes.azure.com/node-image-version"'              AS node_image_version,
    n->>'$.status.nodeInfo.kubeletVersion'                                         AS kubelet_version,
    minor_num(ltrim(n->>'$.status.nodeInfo.kubeletVersion', 'vV'))                 AS kubelet_minor_num,
    coalesce(TRY_CAST(n->>'$.spec.unschedulable' AS BOOLEAN), false)               AS unschedulable,
    coalesce(lower(n->>'$.metadata.labels."kubernetes.azure.com/upgrade-status"') = 'quarantined', false)
                                                                                   AS quarantined
FROM items
WHERE k8s_node_readable(n);

-- Deployments, StatefulSets and the ReplicaSets no Deployment owns (a Deployment's ReplicaSets are counted through
-- the Deployment). Desired replicas default to 1 when spec.replicas is absent; ready to 0.
CREATE OR REPLACE TEMP TABLE k8s_workloads AS
WITH items AS (
    SELECT e.scope AS cluster_id,
           CASE e.kind WHEN 'k8s_deployments' THEN 'Deployment' WHEN 'k8s_stateful_sets' THEN 'StatefulSet'
                       ELSE 'ReplicaSet' END AS kind,
           unnest(json_items(e.payload->'$.items')) AS w
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind IN ('k8s_deployments', 'k8s_stateful_sets', 'k8s_replica_sets')
)
SELECT
    cluster_id,
    kind,
    w->>'$.metadata.namespace'                                           AS namespace,
    w->>'$.metadata.name'                                                AS name,
    coalesce(TRY_CAST(w->>'$.spec.replicas' AS INTEGER), 1)             AS desired,
    coalesce(TRY_CAST(w->>'$.status.readyReplicas' AS INTEGER), 0)      AS ready,
    coalesce(CAST(w->'$.spec.template.metadata.labels' AS VARCHAR), '{}') AS pod_labels
FROM items
WHERE k8s_workload_readable(w)
  AND NOT (kind = 'ReplicaSet' AND list_contains(
    list_transform(json_items(w->'$.metadata.ownerReferences'), lambda o: o->>'$.kind'), 'Deployment'));

-- One row per PodDisruptionBudget, with the workloads its selector selects (same namespace, selector over the pod
-- template labels) and its verdict: does it let a drain evict a pod?
-- Percentages scale by the selected replicas, rounded up, as the disruption controller does.
CREATE OR REPLACE TEMP TABLE k8s_pdb_verdicts AS
WITH lists AS (
    SELECT e.scope AS cluster_id, json_items(e.payload->'$.items') AS items
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'k8s_pod_disruption_budgets'
),
pdbs AS (
    SELECT cluster_id, i, items[i] AS p FROM lists, unnest(range(1, len(items) + 1)) AS t(i)
),
shaped AS (
    SELECT
        cluster_id,
        -- An item that is no PDB object with a name and a namespace is kept (unknown), named by its position.
        coalesce(json_type(p) = 'OBJECT' AND json_type(p->'$.metadata') = 'OBJECT'
                 AND json_type(p->'$.metadata.name') = 'VARCHAR' AND json_type(p->'$.metadata.namespace') = 'VARCHAR'
                 AND ((p->'$.spec') IS NULL OR json_type(p->'$.spec') = 'OBJECT'), false) AS readable,
        coalesce(CASE WHEN json_type(p->'$.metadata.namespace') = 'VARCHAR' THEN p->>'$.metadata.namespace' END, '?')
                                                                  AS namespace,
        coalesce(CASE WHEN json_type(p->'$.metadata.name') = 'VARCHAR' THEN p->>'$.metadata.name' END,
                 '(list item ' || i || ')')                       AS name,
        p->>'$.spec.minAvailable'                                 AS min_available,
        p->>'$.spec.maxUnavailable'                               AS max_unavailable,
        CAST(p->'$.spec.selector' AS VARCHAR)                     AS selector,
        TRY_CAST(p->>'$.status.expectedPods' AS INTEGER)          AS status_expected,
        TRY_CAST(p->>'$.status.currentHealthy' AS INTEGER)        AS status_healthy,
        TRY_CAST(p->>'$.status.disruptionsAllowed' AS INTEGER)    AS disruptions_allowed
    FROM pdbs
),
matched AS (
    SELECT
        s.cluster_id, s.namespace, s.name,
        -- One PDB per (namespace, name) in a real cluster; min/max keep the result deterministic all the same.
        min(s.min_available) AS min_available,
        min(s.max_unavailable) AS max_unavailable,
        min(s.status_expected) AS status_expected,
        min(s.status_healthy) AS status_healthy,
        min(s.disruptions_allowed) AS disruptions_allowed,
        bool_and(s.readable) AS readable,
        bool_or(label_selector_matches(s.selector, '{}') IS NULL) AS selector_invalid,
        count(w.name) AS workload_count,
        coalesce(sum(w.desired), 0) AS desired,
        coalesce(sum(w.ready), 0) AS ready,
        coalesce(bool_or(w.desired = 1), false) AS single_replica,
        string_agg(w.kind || '/' || w.name || ' (' || w.ready || '/' || w.desired || ' ready)', ', '
                   ORDER BY w.kind, w.name, w.ready, w.desired) AS workloads
    FROM shaped s
    LEFT JOIN k8s_workloads w
        ON w.cluster_id = s.cluster_id AND w.namespace = s.namespace
       AND s.readable AND label_selector_matches(s.selector, w.pod_labels)
    GROUP BY s.cluster_id, s.namespace, s.name
),
measured AS (
    SELECT *,
        -- Pods the budget covers and how many are healthy: the workloads' replicas, else (bare pods) the status.
        CASE WHEN workload_count > 0 THEN desired ELSE coalesce(status_expected, 0) END AS expected,
        CASE WHEN workload_count > 0 THEN ready ELSE coalesce(status_healthy, 0) END AS healthy,
        surge_value(max_unavailable) AS max_unavailable_n,
        surge_is_pct(max_unavailable) AS max_unavailable_pct,
        surge_value(min_available) AS min_available_n,
        surge_is_pct(min_available) AS min_available_pct,
        st.unreadable_workloads
    FROM matched
    JOIN k8s_status st USING (cluster_id)
),
decided AS (
    SELECT *,
        CASE WHEN min_available_pct THEN CAST(ceil(expected * min_available_n / 100.0) AS INTEGER)
             ELSE min_available_n END AS required_healthy,
        -- With workload items that cannot be read, the pods a budget selects cannot be counted: only a budget that
        -- allows no eviction of the pods already seen is decided.
        unreadable_workloads > 0
            AND NOT coalesce(expected > 0 AND (max_unavailable_n = 0
                                               OR (min_available_pct AND min_available_n >= 100)), false)
            AS uncountable,
        CASE
            WHEN NOT readable THEN 'unknown'
            WHEN selector_invalid THEN 'unknown'
            WHEN max_unavailable IS NOT NULL AND max_unavailable_n IS NULL THEN 'unknown'
            WHEN min_available IS NOT NULL AND min_available_n IS NULL THEN 'unknown'
            WHEN max_unavailable IS NULL AND min_available IS NULL THEN 'unknown'
            WHEN unreadable_workloads > 0
                 AND NOT coalesce(expected > 0 AND (max_unavailable_n = 0
                                               OR (min_available_pct AND min_available_n >= 100)), false)
                THEN 'unknown'
            WHEN expected = 0 THEN 'warn'
            WHEN max_unavailable_n = 0 THEN 'fail'
            WHEN min_available_pct AND min_available_n >= 100 THEN 'fail'
            WHEN min_available IS NOT NULL
                 AND (CASE WHEN min_available_pct THEN CAST(ceil(expected * min_available_n / 100.0) AS INTEGER)
                           ELSE min_available_n END) >= healthy THEN 'fail'
            WHEN single_replica THEN 'warn'
            ELSE 'pass'
        END AS status
    FROM measured
)
SELECT
    cluster_id, namespace, name, status, min_available, max_unavailable, expected, healthy, required_healthy,
    disruptions_allowed, workload_count, workloads,
    CASE
        WHEN NOT readable THEN
            'is not a readable PodDisruptionBudget (an object with metadata.name, metadata.namespace and an object spec)'
        WHEN selector_invalid THEN 'its selector cannot be read (an unknown operator, or In/NotIn without values)'
        WHEN max_unavailable IS NOT NULL AND max_unavailable_n IS NULL THEN
            'maxUnavailable ''' || max_unavailable || ''' is neither a number nor a percentage'
        WHEN min_available IS NOT NULL AND min_available_n IS NULL THEN
            'minAvailable ''' || min_available || ''' is neither a number nor a percentage'
        WHEN max_unavailable IS NULL AND min_available IS NULL THEN 'sets neither minAvailable nor maxUnavailable'
        WHEN uncountable THEN
            unreadable_workloads || ' workload item(s) of the cluster cannot be read: the pods it selects cannot be '
            || 'counted'
        WHEN expected = 0 THEN 'selects no pod (no workload in ' || namespace || ' matches its selector)'
        WHEN max_unavailable_n = 0 THEN 'maxUnavailable ' || max_unavailable || ' allows no eviction at all'
        WHEN min_available_pct AND min_available_n >= 100 THEN 'minAvailable ' || min_available || ' allows no eviction at all'
        WHEN status = 'fail' THEN
            'minAvailable ' || min_available
            || CASE WHEN min_available_pct THEN ' (' || required_healthy || ' of ' || expected || ' pods)' ELSE '' END
            || ' with ' || healthy || ' ready: no pod may be evicted'
        WHEN status = 'warn' THEN
            'guards a single-replica workload: a drain either waits for it or takes it down'
        ELSE coalesce('minAvailable ' || min_available, 'maxUnavailable ' || max_unavailable)
             || ' with ' || healthy || ' of ' || expected || ' ready: a drain can evict a pod'
    END AS reason
FROM decided;
