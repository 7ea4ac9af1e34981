-- AKS-PDB-01: no PodDisruptionBudget blocks a node drain. Every node-image rollout and Kubernetes upgrade drains
-- each node; a budget that allows no eviction stalls or fails it. Per-PDB verdicts are in k8s_pdb_verdicts
-- (queries/model/80_kubernetes.sql); the cluster fails when one PDB fails. Without Kubernetes evidence: unknown.
WITH per_cluster AS (
    SELECT
        cluster_id,
        count(*) AS pdbs,
        count(*) FILTER (WHERE status = 'fail') AS failing,
        count(*) FILTER (WHERE status = 'warn') AS warning,
        count(*) FILTER (WHERE status = 'unknown') AS undecided,
        string_agg(namespace || '/' || name || coalesce(' (' || workloads || ')', '') || ': ' || reason, ' | '
                   ORDER BY namespace, name, reason) FILTER (WHERE status = 'fail') AS fail_text,
        string_agg(namespace || '/' || name || ': ' || reason, ' | ' ORDER BY namespace, name, reason)
            FILTER (WHERE status = 'warn') AS warn_text,
        string_agg(namespace || '/' || name || ': ' || reason, ' | ' ORDER BY namespace, name, reason)
            FILTER (WHERE status = 'unknown') AS unknown_text,
        string_agg(namespace || '/' || name || '=' || status, ', ' ORDER BY namespace, name, status) AS states
    FROM k8s_pdb_verdicts
    GROUP BY cluster_id
),
judged AS (
    SELECT
        s.cluster_id, s.missing_reason, s.context, s.pdb_count, s.has_pdbs,
        coalesce(p.pdbs, 0) AS pdbs, coalesce(p.failing, 0) AS failing, coalesce(p.warning, 0) AS warning,
        coalesce(p.undecided, 0) AS undecided, p.fail_text, p.warn_text, p.unknown_text, p.states,
        CASE
            WHEN NOT s.has_pdbs THEN 'not_collected'
            WHEN s.pdb_count = 0 THEN 'no_pdbs'
            WHEN NOT s.has_workloads THEN 'workloads_not_collected'
            WHEN coalesce(p.failing, 0) > 0 THEN 'blocking'
            WHEN coalesce(p.undecided, 0) > 0 THEN 'undecided'
            WHEN coalesce(p.warning, 0) > 0 THEN 'thin'
            ELSE 'evictable'
        END AS reason
    FROM k8s_status s
    LEFT JOIN per_cluster p USING (cluster_id)
),
worded AS (
    SELECT *,
        undecided || ' of ' || pdbs || ' PodDisruptionBudget(s) cannot be judged: ' || unknown_text
            AS undecided_text
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'no_pdbs' THEN 'pass'
        WHEN 'blocking' THEN 'fail'
        WHEN 'thin' THEN 'warn'
        WHEN 'evictable' THEN 'pass'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'not_collected' THEN missing_reason
        WHEN 'no_pdbs' THEN 'no PodDisruptionBudget in the cluster: none can block a drain'
        WHEN 'workloads_not_collected' THEN
            -- Budgets that cannot be judged even without the workloads are told instead.
            CASE WHEN undecided = 0
                 THEN pdb_count || ' PodDisruptionBudget(s) but the workloads they select were not collected: '
                      || missing_reason
                 ELSE undecided_text END
        WHEN 'blocking' THEN
            failing || ' of ' || pdbs || ' PodDisruptionBudget(s) block node drains: ' || fail_text
        WHEN 'undecided' THEN undecided_text
        WHEN 'thin' THEN
            warning || ' of ' || pdbs || ' PodDisruptionBudget(s) guard nothing or a single replica: ' || warn_text
        ELSE 'all ' || pdbs || ' PodDisruptionBudget(s) let a drain evict at least one pod'
    END AS message,
    'kubeconfig context=' || coalesce(context, 'none') || '; PodDisruptionBudgets: ' || coalesce(states, 'none')
        AS evidence,
    NULL AS target
FROM worded;
