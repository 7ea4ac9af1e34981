-- Fold one committed scan ($scan_id) into the upgrade ledger (docs/history.md):
--   1. a compact snapshot of each of its clusters;
--   2. candidate events from its resource changes, its scheduled events, and the difference between each
--      cluster's snapshot and that cluster's previous snapshot;
--   3. a merge by natural key: a candidate already in the ledger only bumps last_seen_scan_id and seen_count.
-- __SNAPSHOTS__ and __EVENTS__ name the target tables: the persisted ledger (upgrade_snapshots, upgrade_events),
-- or the temp copies an evaluation builds (history_snapshots, history_events). Scans are folded oldest first, so
-- the target holds no snapshot newer than the scan being folded.

CREATE OR REPLACE TEMP TABLE fold_scan AS
SELECT scan_id, started_at FROM scans WHERE scan_id = $scan_id;

-- 1. Snapshots: what scan diffs compare and what pool indexes are mapped with. A pool's version is what runs
-- (currentOrchestratorVersion), else what was asked for; a missing mode is User, as in the model.
INSERT INTO __SNAPSHOTS__
SELECT
    e.scan_id,
    lower(e.scope),
    s.started_at,
    e.payload->>'$.name',
    CASE WHEN json_type(e.payload, '$.tags') = 'OBJECT' THEN e.payload->'$.tags' ELSE '{}'::JSON END,
    coalesce(e.payload->>'$.properties.currentKubernetesVersion', e.payload->>'$.properties.kubernetesVersion'),
    coalesce(list_transform(TRY_CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[]),
                            lambda p: {'name': p->>'$.name',
                                       'mode': coalesce(p->>'$.mode', 'User'),
                                       'version': coalesce(p->>'$.currentOrchestratorVersion', p->>'$.orchestratorVersion'),
                                       'image': p->>'$.nodeImageVersion'}),
             [])
FROM evidence e
JOIN fold_scan s USING (scan_id)
WHERE e.kind = 'cluster'
QUALIFY row_number() OVER (PARTITION BY lower(e.scope) ORDER BY e.seq) = 1;

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
    SELECT * FROM __SNAPSHOTS__ WHERE taken_at <= (SELECT started_at FROM fold_scan)
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
FROM (SELECT * FROM __SNAPSHOTS__ WHERE scan_id = $scan_id) c
ASOF JOIN (SELECT * FROM __SNAPSHOTS__ WHERE scan_id <> $scan_id) p
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

-- 3. Merge by natural key. Duplicate rows inside one scan collapse first (the smallest evidence_ref is kept).
CREATE OR REPLACE TEMP TABLE fold_candidates AS
SELECT * FROM (
    SELECT * FROM fold_rc
    UNION ALL BY NAME SELECT * FROM fold_se
    UNION ALL BY NAME SELECT * FROM fold_sd
)
QUALIFY row_number() OVER (PARTITION BY event_key ORDER BY evidence_ref) = 1;

UPDATE __EVENTS__ SET last_seen_scan_id = $scan_id, seen_count = seen_count + 1
WHERE event_key IN (SELECT event_key FROM fold_candidates);

INSERT INTO __EVENTS__ BY NAME
SELECT
    c.*,
    s.scan_id AS first_seen_scan_id,
    s.started_at AS first_seen_at,
    s.scan_id AS last_seen_scan_id,
    1 AS seen_count
FROM fold_candidates c, fold_scan s
WHERE c.event_key NOT IN (SELECT event_key FROM __EVENTS__);
