-- Azure Kubernetes Fleet Manager, shaped from the scan's raw evidence (docs/fleet.md): fleets, members, update
-- strategies, auto-upgrade profiles and which clusters they cover, update runs with every stage, group, member and
-- gate status, and gates with who approved them. Ids are compared lower-cased (`*_key` columns); times are UTC.

-- Every table names its rows from the evidence's own name, else from the last segment of its ARM id (a malformed
-- row still reads in messages). The Fleet a child resource belongs to, from its ARM id.
CREATE OR REPLACE TEMP MACRO fleet_key_of(id) AS
    lower(regexp_extract(id, '^(.*?/providers/microsoft\.containerservice/fleets/[^/]+)', 1, 'i'));

-- An ISO 8601 time of any offset as a UTC timestamp (NULL when absent or unreadable).
CREATE OR REPLACE TEMP MACRO fleet_time(v) AS timezone('UTC', TRY_CAST(v AS TIMESTAMPTZ));

CREATE OR REPLACE TEMP TABLE fleets AS
SELECT
    e.scope                                             AS fleet_id,
    lower(e.scope)                                      AS fleet_key,
    -- A row without a usable name is still named, from its id (messages never go blank).
    coalesce(nullif(trim(e.payload->>'$.name'), ''), regexp_extract(e.scope, '([^/]+)$', 1)) AS name,
    lower(e.payload->>'$.subscriptionId')               AS subscription_id,
    e.payload->>'$.resourceGroup'                       AS resource_group,
    lower(replace(coalesce(e.payload->>'$.location', ''), ' ', '')) AS location,
    CASE WHEN json_type(e.payload->'$.tags') = 'OBJECT' THEN e.payload->'$.tags' ELSE '{}'::JSON END AS tags,
    e.payload->>'$.properties.provisioningState'        AS provisioning_state
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'fleet';

CREATE OR REPLACE TEMP TABLE fleet_members AS
SELECT
    e.scope                                             AS member_id,
    fleet_key_of(e.scope)                               AS fleet_key,
    coalesce(nullif(trim(e.payload->>'$.name'), ''), regexp_extract(e.scope, '([^/]+)$', 1)) AS name,
    e.payload->>'$.properties.clusterResourceId'        AS cluster_resource_id,
    lower(e.payload->>'$.properties.clusterResourceId') AS cluster_key,
    e.payload->>'$.properties.group'                    AS member_group,
    e.payload->'$.properties.labels'                    AS labels,
    e.payload->>'$.properties.provisioningState'        AS provisioning_state
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'fleet_member';

-- Update strategies, and every stage's groups (what an auto-upgrade profile's strategy reaches).
CREATE OR REPLACE TEMP TABLE fleet_strategies AS
SELECT
    e.scope                                             AS strategy_id,
    lower(e.scope)                                      AS strategy_key,
    fleet_key_of(e.scope)                               AS fleet_key,
    coalesce(nullif(trim(e.payload->>'$.name'), ''), regexp_extract(e.scope, '([^/]+)$', 1)) AS name,
    e.payload->'$.properties.strategy'                  AS strategy,
    -- Stages and their groups as lists of objects: anything else cannot say which members the strategy reaches.
    coalesce(json_type(e.payload->'$.properties.strategy') = 'OBJECT'
             AND json_listish(e.payload->'$.properties.strategy.stages')
             AND coalesce(list_bool_and(list_transform(json_items(e.payload->'$.properties.strategy.stages'),
                 lambda st: json_type(st) = 'OBJECT' AND json_listish(st->'$.groups')
                            AND coalesce(list_bool_and(list_transform(json_items(st->'$.groups'),
                                lambda g: json_type(g) = 'OBJECT')), true))), true), false) AS readable
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'fleet_update_strategy';

CREATE OR REPLACE TEMP TABLE fleet_strategy_groups AS
WITH stages AS (
    SELECT strategy_key, json_items(strategy->'$.stages') AS stages FROM fleet_strategies
),
numbered AS (
    SELECT strategy_key, i, stages[i] AS stage FROM stages, unnest(range(1, len(stages) + 1)) AS t(i)
)
SELECT strategy_key, i AS stage_index, stage->>'$.name' AS stage_name, unnest(
    list_transform(json_items(stage->'$.groups'), lambda g: g->>'$.name')) AS group_name
FROM numbered;

-- Auto-upgrade profiles. A missing `disabled` means enabled; a missing node image selection means Latest
-- (AutoUpgradeNodeImageSelection, 2026-06-01).
CREATE OR REPLACE TEMP TABLE fleet_profiles AS
SELECT
    e.scope                                                           AS profile_id,
    lower(e.scope)                                                    AS profile_key,
    fleet_key_of(e.scope)                                             AS fleet_key,
    coalesce(nullif(trim(e.payload->>'$.name'), ''), regexp_extract(e.scope, '([^/]+)$', 1)) AS name,
    e.payload->>'$.properties.channel'                                AS channel,
    CASE WHEN lower(e.payload->>'$.properties.channel') = 'nodeimage' THEN 'node-image' ELSE 'kubernetes' END AS kind,
    e.payload->>'$.properties.updateStrategyId'                       AS strategy_id,
    lower(e.payload->>'$.properties.updateStrategyId')                AS strategy_key,
    coalesce(TRY_CAST(e.payload->>'$.properties.disabled' AS BOOLEAN), false) AS disabled,
    coalesce(e.payload->>'$.properties.nodeImageSelection.type', 'Latest') AS node_image_selection,
    e.payload->>'$.properties.targetKubernetesVersion'                AS target_kubernetes_version,
    fleet_time(e.payload->>'$.properties.autoUpgradeProfileStatus.lastTriggeredAt') AS last_triggered_at,
    e.payload->>'$.properties.autoUpgradeProfileStatus.lastTriggerStatus' AS last_trigger_status,
    e.payload->>'$.properties.autoUpgradeProfileStatus.lastTriggerError.message' AS last_trigger_error,
    list_transform(json_items(e.payload->'$.properties.autoUpgradeProfileStatus.lastTriggerUpgradeVersions'),
                   lambda v: v->>'$')                                 AS last_trigger_versions
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'fleet_auto_upgrade_profile';

-- Which enabled profile covers which member: a profile without a strategy updates every member one by one; with a
-- strategy, the members of the strategy's groups. `strategy_collected` is false when the profile names a strategy
-- this scan did not see (coverage then cannot be told).
CREATE OR REPLACE TEMP TABLE fleet_coverage AS
SELECT
    m.cluster_key,
    m.fleet_key,
    f.name                                               AS fleet_name,
    m.name                                               AS member_name,
    m.member_group,
    p.name                                               AS profile_name,
    p.channel,
    p.kind,
    p.node_image_selection,
    s.name                                               AS strategy_name,
    p.strategy_key,
    p.strategy_key IS NULL OR coalesce(s.readable, false) AS strategy_collected
FROM fleet_members m
JOIN fleet_profiles p ON p.fleet_key = m.fleet_key AND NOT p.disabled
LEFT JOIN fleets f ON f.fleet_key = m.fleet_key
LEFT JOIN fleet_strategies s ON s.strategy_key = p.strategy_key
WHERE p.strategy_key IS NULL
   OR s.strategy_key IS NULL
   OR NOT s.readable
   OR EXISTS (SELECT 1 FROM fleet_strategy_groups g
              WHERE g.strategy_key = p.strategy_key AND lower(g.group_name) = lower(m.member_group));

-- One row per cluster that is a Fleet member: its fleets, and the enabled profiles that upgrade it.
CREATE OR REPLACE TEMP TABLE fleet_cluster_authority AS
WITH memberships AS (
    SELECT m.cluster_key,
           string_agg(DISTINCT coalesce(f.name, regexp_extract(m.fleet_key, '([^/]+)$', 1)), ', '
                      ORDER BY coalesce(f.name, regexp_extract(m.fleet_key, '([^/]+)$', 1))) AS fleet_names,
           string_agg(DISTINCT coalesce(f.name, regexp_extract(m.fleet_key, '([^/]+)$', 1)) || '/' || m.name
                      || coalesce(' (group ' || m.member_group || ')', ''), ', '
                      ORDER BY coalesce(f.name, regexp_extract(m.fleet_key, '([^/]+)$', 1)) || '/' || m.name
                      || coalesce(' (group ' || m.member_group || ')', '')) AS memberships
    FROM fleet_members m
    LEFT JOIN fleets f USING (fleet_key)
    GROUP BY m.cluster_key
),
covered AS (
    SELECT cluster_key,
           string_agg(DISTINCT fleet_name || '/' || profile_name || ' (' || channel || ')', ', '
                      ORDER BY fleet_name || '/' || profile_name || ' (' || channel || ')')
               FILTER (WHERE kind = 'kubernetes' AND strategy_collected) AS kubernetes_profiles,
           string_agg(DISTINCT fleet_name || '/' || profile_name || ' (' || channel || ')', ', '
                      ORDER BY fleet_name || '/' || profile_name || ' (' || channel || ')')
               FILTER (WHERE kind = 'node-image' AND strategy_collected) AS node_image_profiles,
           string_agg(DISTINCT fleet_name || '/' || profile_name, ', ' ORDER BY fleet_name || '/' || profile_name)
               FILTER (WHERE NOT strategy_collected) AS unresolved_profiles,
           -- The cluster channels the Kubernetes profiles stand for (AKS-CHN-01): Stable and Rapid as their names
           -- say, TargetKubernetesVersion the newest patch of a pinned minor, as `patch` does.
           list_sort(list_distinct(list(CASE lower(channel) WHEN 'stable' THEN 'stable' WHEN 'rapid' THEN 'rapid'
                                                          WHEN 'targetkubernetesversion' THEN 'patch' END)
                                   FILTER (WHERE kind = 'kubernetes' AND strategy_collected))) AS kubernetes_channels
    FROM fleet_coverage
    GROUP BY cluster_key
)
SELECT m.cluster_key, m.fleet_names, m.memberships, c.kubernetes_profiles, c.node_image_profiles,
       c.unresolved_profiles, coalesce(c.kubernetes_channels, []) AS kubernetes_channels
FROM memberships m
LEFT JOIN covered c USING (cluster_key);

-- Update runs, one row each. The managed-cluster update: upgrade type (Full, NodeImageOnly, ControlPlaneOnly), the
-- target Kubernetes version, and the node image selection (Latest when absent).
CREATE OR REPLACE TEMP TABLE fleet_runs AS
SELECT
    e.scope                                                           AS run_id,
    lower(e.scope)                                                    AS run_key,
    fleet_key_of(e.scope)                                             AS fleet_key,
    coalesce(nullif(trim(e.payload->>'$.name'), ''), regexp_extract(e.scope, '([^/]+)$', 1)) AS name,
    e.payload->>'$.properties.managedClusterUpdate.upgrade.type'      AS upgrade_type,
    e.payload->>'$.properties.managedClusterUpdate.upgrade.kubernetesVersion' AS kubernetes_version,
    coalesce(e.payload->>'$.properties.managedClusterUpdate.nodeImageSelection.type', 'Latest') AS node_image_selection,
    list_transform(json_items(e.payload->'$.properties.status.nodeImageSelection.selectedNodeImageVersions'),
                   lambda v: v->>'$.version')                         AS selected_images,
    e.payload->>'$.properties.updateStrategyId'                       AS strategy_id,
    e.payload->>'$.properties.autoUpgradeProfileId'                   AS auto_upgrade_profile_id,
    -- Collected and readable: a status whose stages, groups, members or gates are not lists of objects cannot be
    -- judged (the run is then unknown, as one without status).
    coalesce(json_type(e.payload->'$.properties.status.status') = 'OBJECT'
             AND json_listish(e.payload->'$.properties.status.stages')
             AND json_listish(e.payload->'$.properties.strategy.stages')
             AND coalesce(list_bool_and(list_transform(json_items(e.payload->'$.properties.status.stages'),
                 lambda st: json_type(st) = 'OBJECT' AND json_listish(st->'$.groups')
                            AND json_listish(st->'$.beforeGates') AND json_listish(st->'$.afterGates')
                            AND coalesce(list_bool_and(list_transform(json_items(st->'$.groups'),
                                lambda g: json_type(g) = 'OBJECT' AND json_listish(g->'$.members')
                                          AND json_listish(g->'$.beforeGates') AND json_listish(g->'$.afterGates')
                                          AND coalesce(list_bool_and(list_transform(json_items(g->'$.members'),
                                              lambda m: json_type(m) = 'OBJECT')), true))), true))), true)
             AND coalesce(list_bool_and(list_transform(json_items(e.payload->'$.properties.strategy.stages'),
                 lambda c: json_type(c) = 'OBJECT' AND json_listish(c->'$.beforeGates')
                           AND json_listish(c->'$.afterGates'))), true), false) AS has_status,
    e.payload->>'$.properties.status.status.state'                    AS state,
    fleet_time(e.payload->>'$.properties.status.status.startTime')    AS start_time,
    fleet_time(e.payload->>'$.properties.status.status.completedTime') AS completed_time,
    e.payload->>'$.properties.status.status.error.message'            AS error,
    json_array_length(coalesce(e.payload->'$.properties.strategy.stages', '[]'::JSON)) AS strategy_stages,
    e.payload                                                         AS payload
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'fleet_update_run';

-- Every stage of every run, in the run's order: its status and the strategy settings the run snapshotted.
CREATE OR REPLACE TEMP TABLE fleet_run_stages AS
WITH lists AS (
    SELECT run_key, fleet_key,
           json_items(payload->'$.properties.status.stages') AS statuses,
           json_items(payload->'$.properties.strategy.stages') AS configs
    FROM fleet_runs
),
numbered AS (
    SELECT run_key, fleet_key, i, statuses[i] AS s, configs FROM lists, unnest(range(1, len(statuses) + 1)) AS t(i)
),
matched AS (
    SELECT n.*, list_filter(n.configs, lambda c: c->>'$.name' = n.s->>'$.name')[1] AS config FROM numbered n
)
SELECT
    run_key,
    fleet_key,
    i                                                                 AS stage_index,
    s->>'$.name'                                                      AS stage_name,
    s->>'$.status.state'                                              AS state,
    fleet_time(s->>'$.status.startTime')                              AS start_time,
    fleet_time(s->>'$.status.completedTime')                          AS completed_time,
    s->>'$.status.error.message'                                      AS error,
    coalesce(TRY_CAST(config->>'$.afterStageWaitInSeconds' AS BIGINT),
             TRY_CAST(s->>'$.afterStageWaitStatus.waitDurationInSeconds' AS BIGINT), 0) AS after_wait_seconds,
    len(list_filter(json_items(config->'$.beforeGates'),
                    lambda g: lower(coalesce(g->>'$.type', 'Approval')) = 'approval')) AS before_approvals,
    len(list_filter(json_items(config->'$.afterGates'),
                    lambda g: lower(coalesce(g->>'$.type', 'Approval')) = 'approval')) AS after_approvals,
    TRY_CAST(config->>'$.maxAllowedFailures' AS VARCHAR)              AS max_allowed_failures,
    s                                                                 AS status
FROM matched;

-- Every member of every run: where it sat (stage, group), its state and times, and what Fleet said about it.
CREATE OR REPLACE TEMP TABLE fleet_run_members AS
WITH groups AS (
    SELECT run_key, fleet_key, stage_index, stage_name,
           unnest(json_items(status->'$.groups')) AS g
    FROM fleet_run_stages
),
members AS (
    SELECT run_key, fleet_key, stage_index, stage_name, g->>'$.name' AS group_name,
           unnest(json_items(g->'$.members')) AS m
    FROM groups
)
SELECT
    run_key, fleet_key, stage_index, stage_name, group_name,
    m->>'$.name'                                                      AS member_name,
    m->>'$.clusterResourceId'                                         AS cluster_resource_id,
    lower(m->>'$.clusterResourceId')                                  AS cluster_key,
    m->>'$.status.state'                                              AS state,
    fleet_time(m->>'$.status.startTime')                              AS start_time,
    fleet_time(m->>'$.status.completedTime')                          AS completed_time,
    m->>'$.message'                                                   AS message,
    m->>'$.status.error.code'                                         AS error_code,
    m->>'$.status.error.message'                                      AS error
FROM members;

-- Gate resources: ARM's list (with systemData) where it was collected for the fleet, else Resource Graph's rows.
-- The Fleet API records no approver of its own: an approval is a PATCH of the gate to Completed, so for a
-- Completed gate systemData.lastModifiedBy/At is who approved it and when.
CREATE OR REPLACE TEMP TABLE fleet_gates AS
WITH arm AS (
    SELECT lower(e.scope) AS fleet_key, unnest(json_items(e.payload->'$.value')) AS g, 'arm' AS source
    FROM evidence e WHERE e.scan_id = $scan_id AND e.kind = 'fleet_gates'
),
graph AS (
    SELECT fleet_key_of(e.scope) AS fleet_key, e.payload AS g, 'resource_graph' AS source
    FROM evidence e WHERE e.scan_id = $scan_id AND e.kind = 'fleet_gate'
      AND fleet_key_of(e.scope) NOT IN (SELECT fleet_key FROM arm)
),
merged AS (
    SELECT * FROM arm UNION ALL SELECT * FROM graph
)
SELECT
    g->>'$.id'                                                        AS gate_id,
    lower(g->>'$.id')                                                 AS gate_key,
    fleet_key,
    g->>'$.name'                                                      AS name,
    g->>'$.properties.displayName'                                    AS display_name,
    g->>'$.properties.gateType'                                       AS gate_type,
    g->>'$.properties.state'                                          AS state,
    lower(g->>'$.properties.target.id')                               AS run_key,
    g->>'$.properties.target.updateRunProperties.stage'               AS stage_name,
    g->>'$.properties.target.updateRunProperties.group'               AS group_name,
    g->>'$.properties.target.updateRunProperties.timing'              AS timing,
    CASE WHEN lower(g->>'$.properties.state') = 'completed' THEN g->>'$.systemData.lastModifiedBy' END AS approved_by,
    CASE WHEN lower(g->>'$.properties.state') = 'completed'
         THEN fleet_time(g->>'$.systemData.lastModifiedAt') END        AS approved_at,
    fleet_time(g->>'$.systemData.createdAt')                          AS created_at,
    source
FROM merged;

-- The gates as each run's status shows them (stage and group, before and after), with the gate resource's approver.
CREATE OR REPLACE TEMP TABLE fleet_run_gates AS
WITH stage_gates AS (
    SELECT run_key, fleet_key, stage_index, stage_name, NULL::VARCHAR AS group_name, 'Before' AS timing,
           unnest(json_items(status->'$.beforeGates')) AS g
    FROM fleet_run_stages
    UNION ALL
    SELECT run_key, fleet_key, stage_index, stage_name, NULL, 'After',
           unnest(json_items(status->'$.afterGates'))
    FROM fleet_run_stages
),
group_gates AS (
    SELECT run_key, fleet_key, stage_index, stage_name, g->>'$.name' AS group_name, 'Before' AS timing,
           unnest(json_items(g->'$.beforeGates')) AS gate
    FROM (SELECT *, unnest(json_items(status->'$.groups')) AS g FROM fleet_run_stages)
    UNION ALL
    SELECT run_key, fleet_key, stage_index, stage_name, g->>'$.name', 'After',
           unnest(json_items(g->'$.afterGates'))
    FROM (SELECT *, unnest(json_items(status->'$.groups')) AS g FROM fleet_run_stages)
),
all_gates AS (
    SELECT run_key, fleet_key, stage_index, stage_name, group_name, timing, g FROM stage_gates
    UNION ALL
    SELECT run_key, fleet_key, stage_index, stage_name, group_name, timing, gate FROM group_gates
)
SELECT
    a.run_key, a.fleet_key, a.stage_index, a.stage_name, a.group_name, a.timing,
    a.g->>'$.displayName'                                             AS display_name,
    lower(a.g->>'$.gateId')                                           AS gate_key,
    a.g->>'$.status.state'                                            AS state,
    fleet_time(a.g->>'$.status.startTime')                            AS start_time,
    fleet_time(a.g->>'$.status.completedTime')                        AS completed_time,
    r.approved_by,
    coalesce(r.approved_at, fleet_time(a.g->>'$.status.completedTime')) AS approved_at,
    r.source                                                          AS gate_source
FROM all_gates a
LEFT JOIN fleet_gates r ON r.gate_key = lower(a.g->>'$.gateId');

-- Why Fleet evidence is missing: failed Resource Graph queries (fleet, fleet_resources) and gate lists.
CREATE OR REPLACE TEMP TABLE fleet_errors AS
SELECT call, scope, trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message) AS error
FROM scan_errors
WHERE call IN ('fleet', 'fleet_resources', 'fleet_gates');

-- The SKU name of each cluster (Base, or Automatic for AKS Automatic, whose own auto-upgrade cannot be turned off).
CREATE OR REPLACE TEMP TABLE cluster_skus AS
SELECT cluster_id, coalesce(sku_name_text, 'Base') AS sku_name FROM cluster_payloads;
