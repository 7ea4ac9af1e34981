-- Fold one committed scan ($scan_id) into the upgrade ledger (docs/history.md), after fold_scan.sql took its
-- snapshots and the target's file added them to the target (fold_snapshots: every snapshot of the target):
--   2. candidate events from its resource changes, its scheduled events, and the difference between each
--      cluster's snapshot and that cluster's previous snapshot (fold_candidates);
--   3. the merge by natural key is the target's file (fold_into_ledger.sql, fold_into_as_of.sql): a candidate
--      already there only bumps last_seen_scan_id and seen_count.
-- The target is the persisted ledger or the temp copies an evaluation builds (auditor/ledger.py); the fold's own
-- tables have fixed names and it never names the target. Scans are folded oldest first, so the target holds no
-- snapshot newer than the scan being folded.

-- A JSON list as JSON[] (as queries/model/00_macros.sql, which a ledger update does not load): absent is empty, a
-- value that is not an array is NULL, so a malformed Fleet payload folds nothing instead of failing the fold.
CREATE OR REPLACE TEMP MACRO json_items(v) AS
    CASE WHEN v IS NULL OR json_type(v) = 'NULL' THEN []::JSON[]
         WHEN json_type(v) = 'ARRAY' THEN CAST(v AS JSON[]) END;

-- 2a. Resource changes (Resource Graph `resourcechanges`): one row per changed property path we read.
--   properties.kubernetesVersion / properties.currentKubernetesVersion            control plane
--   properties.agentPoolProfiles[i].orchestratorVersion / currentOrchestratorVersion / nodeImageVersion   pool i
--   properties.provisioningState, properties.agentPoolProfiles[i].provisioningState   start / failure signals
CREATE OR REPLACE TEMP TABLE fold_changes AS
WITH rows AS (
    SELECT
        e.scope                                                                              AS change_id,
        lower(e.payload->>'$.properties.targetResourceId')                                   AS cluster_id,
        timezone('UTC', TRY_CAST(e.payload->>'$.properties.changeAttributes.timestamp' AS TIMESTAMPTZ)) AS t,
        -- Who made the change, by kind only (User, Application...; never the person): AKS-ORD-01 tells a rollout a
        -- person started from one AKS ran.
        nullif(trim(e.payload->>'$.properties.changeAttributes.changedByType'), '') AS changed_by_type,
        nullif(trim(e.payload->>'$.properties.changeAttributes.clientType'), '') AS client_type,
        unnest(map_entries(TRY_CAST(e.payload->'$.properties.changes' AS MAP(VARCHAR, JSON))))  AS c
    FROM evidence e
    JOIN fold_scan USING (scan_id)
    WHERE e.kind = 'resource_change'
),
paths AS (
    SELECT
        change_id, cluster_id, t, changed_by_type, client_type,
        c.key                                                                        AS path,
        c.value->>'$.previousValue'                                                  AS previous_value,
        c.value->>'$.newValue'                                                       AS new_value,
        TRY_CAST(regexp_extract(c.key, '^properties\.agentPoolProfiles\[(\d+)\]\.', 1, 'i') AS INTEGER) AS idx,
        lower(regexp_extract(c.key, '\.([A-Za-z]+)$', 1))                            AS leaf
    FROM rows
    WHERE t IS NOT NULL AND cluster_id IS NOT NULL AND cluster_id <> ''
      AND (regexp_full_match(c.key, '^properties\.(currentKubernetesVersion|kubernetesVersion|provisioningState)$', 'i')
           OR regexp_full_match(c.key, '^properties\.agentPoolProfiles\[\d+\]\.(currentOrchestratorVersion|orchestratorVersion|nodeImageVersion|provisioningState)$', 'i'))
)
SELECT
    *,
    CASE
        WHEN leaf IN ('currentkubernetesversion', 'kubernetesversion', 'currentorchestratorversion', 'orchestratorversion') THEN 'kubernetes'
        WHEN leaf = 'nodeimageversion' THEN 'node-image'
        WHEN lower(new_value) = 'upgrading' THEN 'kubernetes'
        WHEN lower(new_value) = 'upgradingnodeimageversion' THEN 'node-image'
        WHEN lower(new_value) IN ('failed', 'canceled', 'cancelled') AND lower(previous_value) = 'upgrading' THEN 'kubernetes'
        WHEN lower(new_value) IN ('failed', 'canceled', 'cancelled') AND lower(previous_value) = 'upgradingnodeimageversion' THEN 'node-image'
    END AS kind,
    CASE
        WHEN leaf IN ('currentkubernetesversion', 'currentorchestratorversion', 'nodeimageversion') THEN 'reached'
        WHEN leaf IN ('kubernetesversion', 'orchestratorversion') THEN 'requested'
        WHEN lower(new_value) IN ('upgrading', 'upgradingnodeimageversion') THEN 'started'
        WHEN lower(new_value) = 'failed' AND lower(previous_value) IN ('upgrading', 'upgradingnodeimageversion') THEN 'failed'
        WHEN lower(new_value) IN ('canceled', 'cancelled') AND lower(previous_value) IN ('upgrading', 'upgradingnodeimageversion') THEN 'cancelled'
    END AS phase
FROM paths;

-- Pool index -> pool name, with the cluster's snapshots around the change: B, the last one taken at or before it,
-- and A, the first one taken after it. Where both name the same pool, the mapping is sure. Where they differ (a
-- pool was added or removed in between), the one whose value agrees with the change wins; else the nearer one,
-- flagged 'uncertain'. With neither, the event keeps the raw index and is flagged 'unmapped'.
CREATE OR REPLACE TEMP TABLE fold_rc AS
WITH snaps AS (
    SELECT * FROM fold_snapshots WHERE taken_at <= (SELECT started_at FROM fold_scan)
),
around AS (
    SELECT
        f.*,
        b.taken_at AS b_at, b.pools[f.idx + 1] AS b_pool,
        a.taken_at AS a_at, a.pools[f.idx + 1] AS a_pool
    FROM (SELECT * FROM fold_changes WHERE kind IS NOT NULL) f
    ASOF LEFT JOIN snaps b ON f.cluster_id = b.cluster_id AND f.t >= b.taken_at
    ASOF LEFT JOIN snaps a ON f.cluster_id = a.cluster_id AND f.t < a.taken_at
),
checked AS (
    SELECT
        *,
        CASE leaf WHEN 'currentorchestratorversion' THEN b_pool.version = previous_value
                  WHEN 'nodeimageversion' THEN b_pool.image = previous_value END AS b_agrees,
        CASE leaf WHEN 'currentorchestratorversion' THEN a_pool.version = new_value
                  WHEN 'nodeimageversion' THEN a_pool.image = new_value END AS a_agrees,
        b_pool.name IS NOT NULL AS has_b,
        a_pool.name IS NOT NULL AS has_a,
        b_at IS NULL OR (a_at IS NOT NULL AND a_at - t < t - b_at) AS a_nearer
    FROM around
),
decided AS (
    SELECT
        *,
        CASE
            WHEN idx IS NULL THEN NULL
            WHEN NOT has_b AND NOT has_a THEN 'none'
            WHEN has_b AND has_a AND lower(b_pool.name) = lower(a_pool.name) THEN 'both'
            WHEN has_a AND NOT has_b THEN 'a'
            WHEN has_b AND NOT has_a THEN 'b'
            WHEN a_agrees AND NOT coalesce(b_agrees, false) THEN 'a'
            WHEN b_agrees AND NOT coalesce(a_agrees, false) THEN 'b'
            WHEN a_nearer THEN 'a-nearer'
            ELSE 'b-nearer'
        END AS pick
    FROM checked
)
SELECT
    md5(concat_ws('|', 'resource_change', cluster_id, lower(path), coalesce(previous_value, '<null>'),
                  coalesce(new_value, '<null>'), strftime(t, '%Y-%m-%dT%H:%M:%S.%f'))) AS event_key,
    cluster_id,
    CASE
        WHEN idx IS NULL THEN 'control_plane'
        WHEN pick IN ('both', 'a', 'a-nearer') THEN a_pool.name
        WHEN pick IN ('b', 'b-nearer') THEN b_pool.name
        ELSE 'agentPoolProfiles[' || idx || ']'
    END AS target,
    CASE
        WHEN pick IN ('both', 'a', 'a-nearer') THEN a_pool.mode
        WHEN pick IN ('b', 'b-nearer') THEN b_pool.mode
    END AS pool_mode,
    kind,
    phase,
    CASE WHEN leaf <> 'provisioningstate' THEN previous_value END AS from_version,
    CASE WHEN leaf <> 'provisioningstate' THEN new_value END AS to_version,
    t AS event_time,
    t AS window_start,
    t AS window_end,
    'resource_change' AS source,
    path AS field,
    CASE
        WHEN idx IS NULL THEN NULL
        WHEN pick = 'none' THEN 'unmapped'
        WHEN pick IN ('a-nearer', 'b-nearer') THEN 'uncertain'
        WHEN pick = 'a' AND a_agrees = false THEN 'uncertain'
        WHEN pick = 'b' AND b_agrees = false THEN 'uncertain'
        ELSE 'snapshot'
    END AS mapping,
    nullif(concat_ws('; ',
        CASE WHEN leaf = 'provisioningstate'
             THEN 'provisioningState ' || coalesce(previous_value, '?') || ' -> ' || coalesce(new_value, '?') END,
        CASE WHEN changed_by_type IS NOT NULL
             THEN 'changed by a ' || changed_by_type || coalesce(' (' || client_type || ')', '') END,
        CASE
            WHEN pick = 'none' THEN 'no snapshot of the cluster has a pool at index ' || idx
                 || ': the pool cannot be named'
            WHEN pick IN ('a', 'b', 'a-nearer', 'b-nearer') AND has_a AND has_b THEN
                 'index ' || idx || ' was pool ''' || b_pool.name || ''' in the scan of '
                 || strftime(b_at, '%Y-%m-%d %H:%M') || ' and pool ''' || a_pool.name || ''' in the scan of '
                 || strftime(a_at, '%Y-%m-%d %H:%M') || ' (pools were added or removed in between): '
                 || CASE WHEN pick IN ('a', 'b') THEN 'chose the one whose value matches the change'
                         ELSE 'chose the nearer scan' END
            WHEN pick = 'a' AND a_agrees = false THEN
                 'mapped with the scan of ' || strftime(a_at, '%Y-%m-%d %H:%M') || ', whose pool ''' || a_pool.name
                 || ''' no longer has the value the change set'
            WHEN pick = 'b' AND b_agrees = false THEN
                 'mapped with the scan of ' || strftime(b_at, '%Y-%m-%d %H:%M') || ', whose pool ''' || b_pool.name
                 || ''' did not have the value the change replaced'
        END), '') AS note,
    change_id AS evidence_ref
FROM decided;

-- 2b. Scheduled events (Resource Graph `containerserviceeventresources`). Only the auto-upgrader's events
-- (eventSource AutoUpgrader) are upgrades; end-of-support notices (eventSource EOLNotification) share the table and
-- are left out on purpose (AKS-VER-02 reads them: queries/model/80_eol_notices.sql), as is any other source. The
-- upgrade type is found the way Microsoft's AKS Communication Manager queries find it: K8sVersionUpgrade or
-- NodeOSUpgrade anywhere in the properties. Unset times are 0001-01-01. The event concerns the whole cluster: target
-- 'cluster'.
CREATE OR REPLACE TEMP TABLE fold_se AS
WITH rows AS (
    SELECT
        e.scope AS event_id,
        lower(coalesce(
            nullif(regexp_extract(e.scope, '^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.containerservice/managedclusters/[^/]+)', 1, 'i'), ''),
            e.payload->'$.properties.resources'->>0)) AS cluster_id,
        lower(e.payload->>'$.properties.eventStatus') AS status,
        e.payload->>'$.properties.eventStatus' AS raw_status,
        lower(CAST(e.payload->'$.properties' AS VARCHAR)) AS text,
        e.payload->>'$.properties.eventDetails' AS details,
        coalesce(e.payload->>'$.properties.eventId', e.payload->>'$.name', e.scope) AS raw_event_id,
        timezone('UTC', TRY_CAST(e.payload->>'$.properties.scheduledTime' AS TIMESTAMPTZ)) AS scheduled_time,
        timezone('UTC', TRY_CAST(e.payload->>'$.properties.startTime' AS TIMESTAMPTZ)) AS start_time,
        timezone('UTC', TRY_CAST(e.payload->>'$.properties.lastUpdateTime' AS TIMESTAMPTZ)) AS update_time
    FROM evidence e
    JOIN fold_scan USING (scan_id)
    WHERE e.kind = 'scheduled_event' AND lower(e.payload->>'$.properties.eventSource') = 'autoupgrader'
),
shaped AS (
    SELECT
        *,
        CASE WHEN contains(text, 'k8sversionupgrade') THEN 'kubernetes'
             WHEN contains(text, 'nodeosupgrade') THEN 'node-image' END AS kind,
        CASE status WHEN 'scheduled' THEN 'scheduled' WHEN 'started' THEN 'started' WHEN 'completed' THEN 'reached'
                    WHEN 'failed' THEN 'failed' WHEN 'canceled' THEN 'cancelled' WHEN 'cancelled' THEN 'cancelled'
        END AS phase,
        CASE WHEN year(scheduled_time) > 1900 THEN scheduled_time END AS scheduled_at,
        CASE WHEN year(start_time) > 1900 THEN start_time END AS started_at,
        CASE WHEN year(update_time) > 1900 THEN update_time END AS updated_at,
        nullif(regexp_extract(details, 'from\s+v?(\d+\.\d+(?:\.\d+)?)', 1, 'i'), '') AS from_version,
        nullif(regexp_extract(details, 'to\s+v?(\d+\.\d+(?:\.\d+)?)', 1, 'i'), '') AS to_version
    FROM rows
),
timed AS (
    SELECT
        *,
        CASE phase
            WHEN 'scheduled' THEN coalesce(scheduled_at, updated_at)
            WHEN 'started' THEN coalesce(started_at, updated_at, scheduled_at)
            ELSE coalesce(updated_at, started_at, scheduled_at)
        END AS t
    FROM shaped
)
SELECT
    md5(concat_ws('|', 'scheduled_event', cluster_id, lower(raw_event_id), phase)) AS event_key,
    cluster_id,
    'cluster' AS target,
    NULL::VARCHAR AS pool_mode,
    kind,
    phase,
    from_version,
    to_version,
    t AS event_time,
    t AS window_start,
    t AS window_end,
    'scheduled_event' AS source,
    'eventStatus' AS field,
    NULL::VARCHAR AS mapping,
    nullif(concat_ws('; ', 'eventStatus ' || raw_status,
                     CASE WHEN details IS NOT NULL THEN left(details, 300) END), '') AS note,
    event_id AS evidence_ref
FROM timed
WHERE kind IS NOT NULL AND phase IS NOT NULL AND t IS NOT NULL AND cluster_id IS NOT NULL AND cluster_id <> '';

-- 2c. Scan diffs: each cluster's snapshot against its previous snapshot (the last scan before this one that saw the
-- cluster). Coarse, the change lies somewhere in between, but unlimited in time. Pools are matched by name:
-- a pool added or removed in between gives no event.
CREATE OR REPLACE TEMP TABLE fold_pairs AS
SELECT
    c.cluster_id, c.scan_id AS cur_scan, c.taken_at AS cur_at, c.control_plane_version AS cur_cp, c.pools AS cur_pools,
    p.scan_id AS prev_scan, p.taken_at AS prev_at, p.control_plane_version AS prev_cp, p.pools AS prev_pools
FROM (SELECT * FROM fold_snapshots WHERE scan_id = $scan_id) c
ASOF JOIN (SELECT * FROM fold_snapshots WHERE scan_id <> $scan_id) p
    ON c.cluster_id = p.cluster_id AND c.taken_at > p.taken_at;

CREATE OR REPLACE TEMP TABLE fold_sd AS
WITH cur AS (
    SELECT cluster_id, cur_scan, cur_at, prev_scan, prev_at, unnest(cur_pools) AS pool FROM fold_pairs
),
prev AS (
    SELECT cluster_id, unnest(prev_pools) AS pool FROM fold_pairs
),
pools AS (
    SELECT cur.cluster_id, cur.cur_scan, cur.cur_at, cur.prev_scan, cur.prev_at, cur.pool AS now, prev.pool AS before
    FROM cur JOIN prev ON cur.cluster_id = prev.cluster_id AND lower(cur.pool.name) = lower(prev.pool.name)
),
changes AS (
    SELECT cluster_id, 'control_plane' AS target, NULL::VARCHAR AS pool_mode, 'kubernetes' AS kind,
           'currentKubernetesVersion' AS field, prev_cp AS from_version, cur_cp AS to_version,
           prev_scan, prev_at, cur_scan, cur_at
    FROM fold_pairs WHERE prev_cp IS DISTINCT FROM cur_cp AND prev_cp IS NOT NULL AND cur_cp IS NOT NULL
    UNION ALL
    SELECT cluster_id, now.name, now.mode, 'kubernetes', 'currentOrchestratorVersion', before.version, now.version,
           prev_scan, prev_at, cur_scan, cur_at
    FROM pools WHERE before.version IS DISTINCT FROM now.version AND before.version IS NOT NULL AND now.version IS NOT NULL
    UNION ALL
    SELECT cluster_id, now.name, now.mode, 'node-image', 'nodeImageVersion', before.image, now.image,
           prev_scan, prev_at, cur_scan, cur_at
    FROM pools WHERE before.image IS DISTINCT FROM now.image AND before.image IS NOT NULL AND now.image IS NOT NULL
)
SELECT
    md5(concat_ws('|', 'scan_diff', cluster_id, lower(target), field, from_version, to_version, prev_scan, cur_scan)) AS event_key,
    cluster_id,
    target,
    pool_mode,
    kind,
    'reached' AS phase,
    from_version,
    to_version,
    NULL::TIMESTAMP AS event_time,
    prev_at AS window_start,
    cur_at AS window_end,
    'scan_diff' AS source,
    field,
    NULL::VARCHAR AS mapping,
    'changed between the scans of ' || strftime(prev_at, '%Y-%m-%d %H:%M') || ' and '
        || strftime(cur_at, '%Y-%m-%d %H:%M') || ' UTC' AS note,
    prev_scan || ' -> ' || cur_scan AS evidence_ref
FROM changes;

-- 2d. Azure Kubernetes Fleet Manager update runs (Resource Graph `aksresources`, docs/fleet.md): every member of every
-- run, with Fleet's own start and completion times, kept here for good (Fleet keeps a run only until it is deleted).
-- A member's update concerns the whole cluster (target 'cluster'): Fleet records when the cluster's update ran, not
-- the order of the control plane and pools inside it. Full updates Kubernetes and node images, ControlPlaneOnly
-- Kubernetes, NodeImageOnly node images; a node image counts for a cluster whose snapshot runs its image SKU (the
-- version's prefix). Completed: 'reached' within [start, completion]; Failed: 'failed'; started: 'started'.
CREATE OR REPLACE TEMP TABLE fold_fleet_members AS
WITH runs AS (
    SELECT
        e.scope                                                                       AS run_id,
        e.payload->>'$.name'                                                          AS run_name,
        regexp_extract(e.scope, '/fleets/([^/]+)/', 1, 'i')                           AS fleet_name,
        lower(e.payload->>'$.properties.managedClusterUpdate.upgrade.type')           AS upgrade_type,
        e.payload->>'$.properties.managedClusterUpdate.upgrade.kubernetesVersion'     AS kubernetes_version,
        list_transform(json_items(e.payload->'$.properties.status.nodeImageSelection.selectedNodeImageVersions'),
                       lambda v: v->>'$.version')                                     AS images,
        json_items(e.payload->'$.properties.status.stages')                            AS stages
    FROM evidence e
    JOIN fold_scan USING (scan_id)
    WHERE e.kind = 'fleet_update_run'
),
stages AS (
    SELECT r.* EXCLUDE (stages), unnest(r.stages) AS s FROM runs r
),
groups AS (
    SELECT st.* EXCLUDE (s), st.s->>'$.name' AS stage_name,
           unnest(json_items(st.s->'$.groups')) AS g
    FROM stages st
),
members AS (
    SELECT gr.* EXCLUDE (g), gr.g->>'$.name' AS group_name,
           unnest(json_items(gr.g->'$.members')) AS m
    FROM groups gr
)
SELECT
    run_id, run_name, fleet_name, upgrade_type, kubernetes_version, images, stage_name, group_name,
    lower(m->>'$.clusterResourceId')                                                  AS cluster_id,
    m->>'$.name'                                                                      AS member_name,
    m->>'$.status.state'                                                              AS state,
    timezone('UTC', TRY_CAST(m->>'$.status.startTime' AS TIMESTAMPTZ))               AS started,
    timezone('UTC', TRY_CAST(m->>'$.status.completedTime' AS TIMESTAMPTZ))           AS completed,
    coalesce(m->>'$.status.error.message', m->>'$.message')                           AS detail
FROM members
WHERE coalesce(m->>'$.clusterResourceId', '') <> '';

CREATE OR REPLACE TEMP TABLE fold_fr AS
WITH skus AS (
    SELECT DISTINCT cluster_id, regexp_replace(unnest(list_transform(pools, lambda p: p.image)), '-[^-]+$', '') AS sku
    FROM fold_snapshots WHERE scan_id = $scan_id
),
kinds AS (
    SELECT m.*, 'kubernetes' AS kind, m.kubernetes_version AS version
    FROM fold_fleet_members m
    WHERE m.upgrade_type IN ('full', 'controlplaneonly') AND m.kubernetes_version IS NOT NULL
    UNION ALL
    SELECT m.*, 'node-image', i.image
    FROM fold_fleet_members m, unnest(m.images) AS i(image)
    WHERE m.upgrade_type IN ('full', 'nodeimageonly')
      AND EXISTS (SELECT 1 FROM skus k WHERE k.cluster_id = m.cluster_id
                  AND k.sku = regexp_replace(i.image, '-[^-]+$', ''))
),
phased AS (
    -- Starts and failures once per member and kind (not per node image); completions per version reached.
    SELECT DISTINCT run_id, run_name, fleet_name, stage_name, group_name, cluster_id, member_name, state, detail, kind,
           CASE WHEN kind = 'kubernetes' THEN version END AS version, 'started' AS phase,
           started AS window_start, started AS window_end
    FROM kinds WHERE started IS NOT NULL AND lower(coalesce(state, '')) NOT IN ('skipped', 'notstarted')
    UNION ALL
    SELECT run_id, run_name, fleet_name, stage_name, group_name, cluster_id, member_name, state, detail, kind, version,
           'reached', coalesce(started, completed), completed
    FROM kinds WHERE lower(state) = 'completed' AND completed IS NOT NULL
    UNION ALL
    SELECT DISTINCT run_id, run_name, fleet_name, stage_name, group_name, cluster_id, member_name, state, detail, kind,
           CASE WHEN kind = 'kubernetes' THEN version END, 'failed',
           coalesce(completed, started), coalesce(completed, started)
    FROM kinds WHERE lower(state) = 'failed' AND coalesce(completed, started) IS NOT NULL
)
SELECT
    md5(concat_ws('|', 'fleet_update_run', cluster_id, lower(run_id), kind, phase, coalesce(version, ''),
                  strftime(window_end, '%Y-%m-%dT%H:%M:%S.%f'))) AS event_key,
    cluster_id,
    'cluster' AS target,
    NULL::VARCHAR AS pool_mode,
    kind,
    phase,
    NULL::VARCHAR AS from_version,
    version AS to_version,
    CASE WHEN window_start = window_end THEN window_end END AS event_time,
    window_start,
    window_end,
    'fleet_update_run' AS source,
    'status.stages[].groups[].members[].status' AS field,
    NULL::VARCHAR AS mapping,
    'update run ''' || run_name || ''' of fleet ' || fleet_name || ', stage ''' || stage_name || ''', group '''
        || group_name || ''': ' || member_name || ' ' || coalesce(state, '?')
        || coalesce(': ' || left(detail, 300), '') AS note,
    run_id AS evidence_ref
FROM phased;

-- 2e. Approvals of Fleet Manager gates (ARM `gates` list: Completed approval gates with systemData, whose
-- lastModifiedBy/At is the approval): one event per member cluster the gate held back (its stage, or its group).
CREATE OR REPLACE TEMP TABLE fold_fg AS
WITH gates AS (
    SELECT unnest(json_items(e.payload->'$.value')) AS g
    FROM evidence e
    JOIN fold_scan USING (scan_id)
    WHERE e.kind = 'fleet_gates'
),
approved AS (
    SELECT
        g->>'$.id'                                                         AS gate_id,
        g->>'$.properties.displayName'                                     AS display_name,
        lower(g->>'$.properties.target.id')                                AS run_key,
        g->>'$.properties.target.updateRunProperties.stage'                AS stage_name,
        g->>'$.properties.target.updateRunProperties.group'                AS group_name,
        coalesce(g->>'$.properties.target.updateRunProperties.timing', 'Before') AS timing,
        coalesce(g->>'$.systemData.lastModifiedBy', 'unknown')            AS approver,
        timezone('UTC', TRY_CAST(g->>'$.systemData.lastModifiedAt' AS TIMESTAMPTZ)) AS t
    FROM gates
    WHERE lower(g->>'$.properties.state') = 'completed'
      AND lower(coalesce(g->>'$.properties.gateType', 'Approval')) = 'approval'
)
SELECT DISTINCT
    md5(concat_ws('|', 'fleet_gate', m.cluster_id, lower(a.gate_id))) AS event_key,
    m.cluster_id,
    'cluster' AS target,
    NULL::VARCHAR AS pool_mode,
    CASE WHEN m.upgrade_type IN ('full', 'controlplaneonly') THEN 'kubernetes' ELSE 'node-image' END AS kind,
    'approved' AS phase,
    NULL::VARCHAR AS from_version,
    CASE WHEN m.upgrade_type IN ('full', 'controlplaneonly') THEN m.kubernetes_version END AS to_version,
    a.t AS event_time,
    a.t AS window_start,
    a.t AS window_end,
    'fleet_gate' AS source,
    'gate state Completed' AS field,
    NULL::VARCHAR AS mapping,
    'approval gate ''' || coalesce(a.display_name, '?') || ''' (' || lower(a.timing) || ' '
        || CASE WHEN a.group_name IS NOT NULL THEN 'group ''' || a.group_name || ''' of ' ELSE '' END
        || 'stage ''' || a.stage_name || ''') of update run ''' || m.run_name || ''' approved by ' || a.approver AS note,
    a.gate_id AS evidence_ref
FROM approved a
JOIN fold_fleet_members m
  ON lower(m.run_id) = a.run_key AND m.stage_name = a.stage_name
 AND (a.group_name IS NULL OR m.group_name = a.group_name)
WHERE a.t IS NOT NULL;

-- 3. Merge by natural key. Duplicate rows inside one scan collapse first (the smallest evidence_ref is kept).
CREATE OR REPLACE TEMP TABLE fold_candidates AS
SELECT * FROM (
    SELECT * FROM fold_rc
    UNION ALL BY NAME SELECT * FROM fold_se
    UNION ALL BY NAME SELECT * FROM fold_sd
    UNION ALL BY NAME SELECT * FROM fold_fr
    UNION ALL BY NAME SELECT * FROM fold_fg
)
QUALIFY row_number() OVER (PARTITION BY event_key ORDER BY evidence_ref) = 1;

-- The candidates as the target's new rows would hold them (first and last seen in this scan, seen once); the
-- target's fold_into_*.sql inserts those whose key it does not hold yet.
CREATE OR REPLACE TEMP VIEW fold_new_events AS
SELECT
    c.*,
    s.scan_id AS first_seen_scan_id,
    s.started_at AS first_seen_at,
    s.scan_id AS last_seen_scan_id,
    1 AS seen_count
FROM fold_candidates c, fold_scan s;
