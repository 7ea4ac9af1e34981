-- AKS-RNG-01: rollout rings. A cluster's ring is the value of its [ring_tag] tag, ranked by [ring_order] (default
-- dev < staging < prod); the last ring is production. A production cluster fails when it moved to the Kubernetes
-- version or a node image it runs before any lower-ring cluster had run it (docs/history.md). The fleet is every
-- cluster the upgrade ledger has seen up to this scan, with the tags of its latest snapshot; one finding per
-- cluster of this scan (not_applicable outside production; unknown when what it runs cannot be read). The status
-- is decided once (`reason`), then worded. Times come from the ledger: a move with an exact time, or the window
-- between two scans, or a Fleet Manager member update (its start to its completion), preferred where a run covers
-- the move; a version a cluster already ran when history began has no known start.
WITH params AS (
    SELECT
        c.cluster_id, lower(c.cluster_id) AS cid, c.current_kubernetes_version,
        lower(p.ring_tag) AS ring_tag, p.ring_tag AS ring_tag_name,
        list_transform(p.ring_order, lambda r: lower(r)) AS rings
    FROM clusters c
    JOIN cluster_params p USING (cluster_id)
),
specs AS (
    SELECT DISTINCT ring_tag, rings FROM params
),
known AS (
    SELECT
        cluster_id AS cid,
        arg_max(name, (taken_at, name)) AS name,
        list_transform(map_entries(TRY_CAST(coalesce(arg_max(tags, (taken_at, CAST(tags AS VARCHAR))), '{}'::JSON) AS MAP(VARCHAR, VARCHAR))),
                       lambda t: {'k': lower(t.key), 'v': lower(coalesce(t.value, ''))}) AS tag_pairs,
        min(taken_at) AS first_seen
    FROM history_snapshots
    GROUP BY cluster_id
),
ranked AS (
    -- Each known cluster's ring under each ring specification in use (NULL: not in any ring).
    SELECT s.ring_tag, s.rings, k.cid, k.name, k.first_seen,
           list_position(s.rings, list_filter(k.tag_pairs, lambda t: t.k = s.ring_tag)[1].v) AS ring_rank
    FROM specs s CROSS JOIN known k
),
items AS (
    -- What each cluster of this scan runs: its control plane's version and each distinct node image.
    SELECT cid, 'kubernetes' AS kind, current_kubernetes_version AS value FROM params
    WHERE current_kubernetes_version IS NOT NULL
    UNION
    SELECT lower(cluster_id), 'node-image', node_image_version FROM node_pools WHERE node_image_version IS NOT NULL
),
reach AS (
    -- Fleet Manager update runs are proof with real times: a member's update ran between its start and completion
    -- (target 'cluster': the whole cluster moved).
    SELECT cluster_id AS cid, kind, target, to_version AS value, window_start, window_end, source, evidence_ref
    FROM history_events
    WHERE phase = 'reached' AND (target <> 'cluster' OR source = 'fleet_update_run')
      AND coalesce(mapping, '') <> 'unmapped'
      AND to_version IN (SELECT value FROM items)
),
moves AS (
    -- When a cluster moved to what it runs: the earliest such event (control plane for Kubernetes, any pool for an
    -- image), from a Fleet Manager update run where one covers it (proof), else from the ledger's other sources.
    -- No row: it ran it since before its history began.
    SELECT i.cid, i.kind, i.value,
           coalesce(arg_min(r.window_start, (r.window_end, r.window_start)) FILTER (WHERE r.source = 'fleet_update_run'),
                    arg_min(r.window_start, (r.window_end, r.window_start))) AS moved_from,
           coalesce(min(r.window_end) FILTER (WHERE r.source = 'fleet_update_run'), min(r.window_end)) AS moved_by,
           arg_min(regexp_extract(r.evidence_ref, '/updateRuns/([^/]+)$', 1, 'i'), (r.window_end, r.evidence_ref))
               FILTER (WHERE r.source = 'fleet_update_run') AS fleet_run,
           string_agg(DISTINCT r.source, ', ' ORDER BY r.source) FILTER (WHERE r.source <> 'fleet_update_run')
               AS ledger_sources
    FROM items i
    JOIN reach r ON r.cid = i.cid AND r.kind = i.kind AND r.value = i.value
     AND (i.kind = 'node-image' OR r.target = 'control_plane' OR r.source = 'fleet_update_run')
    GROUP BY ALL
),
snapshot_values AS (
    SELECT cluster_id AS cid, taken_at, 'kubernetes' AS kind,
           unnest(list_distinct(list_prepend(control_plane_version, list_transform(pools, lambda p: p.version)))) AS value
    FROM history_snapshots
    UNION ALL
    SELECT cluster_id, taken_at, 'node-image', unnest(list_distinct(list_transform(pools, lambda p: p.image)))
    FROM history_snapshots
),
facts AS (
    -- Every time a known cluster is known to have run a value: certainly by `certain`, possibly from `possible`
    -- (NULL: possibly since before its history began, when its first snapshot already shows it).
    SELECT cid, kind, value, window_end AS certain, window_start AS possible FROM reach
    UNION ALL
    SELECT v.cid, v.kind, v.value, v.taken_at,
           CASE WHEN v.taken_at = k.first_seen
                     AND NOT EXISTS (SELECT 1 FROM reach r WHERE r.cid = v.cid AND r.kind = v.kind AND r.value = v.value)
                THEN NULL ELSE v.taken_at END
    FROM snapshot_values v
    JOIN known k USING (cid)
    WHERE v.value IN (SELECT value FROM items)
),
lower_facts AS (
    SELECT r.ring_tag, r.rings, f.kind, f.value, f.certain, f.possible,
           '''' || r.name || ''' (' || r.rings[r.ring_rank] || ')' AS who
    FROM facts f
    JOIN ranked r ON r.cid = f.cid
    WHERE r.ring_rank BETWEEN 1 AND len(r.rings) - 1
),
lower_summary AS (
    SELECT ring_tag, rings, kind, value,
           min(certain) AS certain_first,
           arg_min(who, (certain, who)) FILTER (WHERE certain IS NOT NULL) AS certain_who,
           bool_or(possible IS NULL) AS before_history,
           min(possible) AS possible_first,
           arg_min(who, (possible, who)) FILTER (WHERE possible IS NOT NULL) AS possible_who
    FROM lower_facts
    GROUP BY ring_tag, rings, kind, value
),
lower_rings AS (
    SELECT ring_tag, rings, count(*) AS clusters FROM ranked WHERE ring_rank BETWEEN 1 AND len(rings) - 1
    GROUP BY ring_tag, rings
),
judged AS (
    SELECT
        p.cluster_id, p.cid, i.kind, i.value, m.moved_from, m.moved_by, l.certain_first, l.certain_who,
        l.possible_first, l.possible_who,
        CASE WHEN m.fleet_run IS NOT NULL THEN ' [evidence: Fleet update run ''' || m.fleet_run || ''']'
             WHEN m.moved_by IS NOT NULL THEN ' [evidence: upgrade ledger, ' || m.ledger_sources || ']'
             ELSE '' END AS proof,
        CASE i.kind WHEN 'kubernetes' THEN 'Kubernetes ' ELSE 'node image ' END || i.value AS what,
        -- No move in the history: the cluster ran the value before its history began.
        m.moved_by IS NULL AS ran_before_history,
        coalesce(l.before_history, false) AS lower_ran_before_history
    FROM params p
    JOIN items i ON i.cid = p.cid
    LEFT JOIN moves m ON m.cid = i.cid AND m.kind = i.kind AND m.value = i.value
    LEFT JOIN lower_summary l ON l.ring_tag = p.ring_tag AND l.rings = p.rings AND l.kind = i.kind AND l.value = i.value
),
judged_facts AS (
    SELECT *,
        CASE
            WHEN ran_before_history THEN 'unknown'
            WHEN certain_first <= moved_from THEN 'pass'
            WHEN lower_ran_before_history OR possible_first < moved_by THEN 'unknown'
            ELSE 'fail'
        END AS outcome,
        -- No cluster of a lower ring has run this value, even possibly before this one moved.
        possible_first IS NULL AS unrun_below
    FROM judged
),
explained AS (
    SELECT
        *,
        CASE outcome
            WHEN 'pass' THEN what || ' ran on ' || certain_who || ' by ' || strftime(certain_first, '%Y-%m-%d %H:%M')
                 || ', before this cluster moved to it' || proof
            WHEN 'fail' THEN 'moved to ' || what || ' '
                 || CASE WHEN moved_from = moved_by THEN 'at ' || strftime(moved_by, '%Y-%m-%d %H:%M') || ' UTC'
                         ELSE 'between ' || strftime(moved_from, '%Y-%m-%d %H:%M') || ' and '
                              || strftime(moved_by, '%Y-%m-%d %H:%M') || ' UTC' END
                 || CASE WHEN unrun_below THEN ' and no lower-ring cluster has run it'
                         ELSE ' before any lower-ring cluster ran it (first: ' || possible_who || ' from '
                              || strftime(possible_first, '%Y-%m-%d %H:%M') || ')' END || proof
            ELSE what || CASE
                WHEN ran_before_history THEN ': this cluster ran it since before its history began'
                WHEN certain_first IS NULL AND unrun_below THEN ': a lower ring ran it before history began'
                ELSE ': moved by ' || strftime(moved_by, '%Y-%m-%d %H:%M') || ', and ' || coalesce(possible_who, certain_who)
                     || ' may have run it first (times overlap)' || proof END
        END AS text
    FROM judged_facts
),
per_cluster AS (
    SELECT
        p.cluster_id, p.cid, p.ring_tag_name, p.rings,
        count(e.value) AS items,
        count(*) FILTER (WHERE e.outcome = 'fail') AS failing,
        count(*) FILTER (WHERE e.outcome = 'unknown') AS unknown_items,
        string_agg(e.text, '; ' ORDER BY e.kind, e.value) FILTER (WHERE e.outcome = 'fail') AS fail_text,
        string_agg(e.text, '; ' ORDER BY e.kind, e.value) FILTER (WHERE e.outcome = 'unknown') AS unknown_text,
        string_agg(e.text, '; ' ORDER BY e.kind, e.value) FILTER (WHERE e.outcome = 'pass') AS pass_text,
        min(e.value) FILTER (WHERE e.outcome = 'fail' AND e.kind = 'kubernetes') AS failing_version
    FROM params p
    LEFT JOIN explained e ON e.cid = p.cid
    GROUP BY ALL
),
decided AS (
    SELECT
        c.*, r.ring_rank, l.clusters AS lower_clusters, k.tags_problem,
        -- What of the cluster cannot be read (its version, its pools): a production cluster is not proven in order.
        coalesce(k.version_problem, k.properties_problem, k.pools_problem, e.entry_problems) AS problem,
        CASE
            -- Tags of the wrong shape (a list, a string): the ring cannot be read, so neither can the verdict.
            WHEN k.tags_problem IS NOT NULL THEN 'tags_unreadable'
            WHEN r.ring_rank IS NULL THEN 'no_ring'
            WHEN r.ring_rank < len(c.rings) THEN 'lower_ring'
            WHEN coalesce(l.clusters, 0) = 0 THEN 'no_lower_ring'
            WHEN c.failing > 0 THEN 'moved_first'
            WHEN coalesce(k.version_problem, k.properties_problem, k.pools_problem, e.entry_problems) IS NOT NULL
                THEN 'unreadable'
            WHEN c.items = 0 THEN 'nothing_to_judge'
            WHEN c.unknown_items > 0 THEN 'times_overlap'
            ELSE 'lower_ring_first'
        END AS reason
    FROM per_cluster c
    JOIN clusters k USING (cluster_id)
    LEFT JOIN (SELECT cluster_id, string_agg(pool_problem, '; ' ORDER BY pool_index) AS entry_problems
               FROM node_pools WHERE pool_problem IS NOT NULL GROUP BY cluster_id) e USING (cluster_id)
    LEFT JOIN ranked r ON r.cid = c.cid AND r.ring_tag = lower(c.ring_tag_name) AND r.rings = c.rings
    LEFT JOIN lower_rings l ON l.ring_tag = lower(c.ring_tag_name) AND l.rings = c.rings
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'moved_first' THEN 'fail'
        WHEN 'lower_ring_first' THEN 'pass'
        WHEN 'unreadable' THEN 'unknown'
        WHEN 'tags_unreadable' THEN 'unknown'
        WHEN 'nothing_to_judge' THEN 'unknown'
        WHEN 'times_overlap' THEN 'unknown'
        ELSE 'not_applicable'
    END AS status,
    CASE reason
        WHEN 'no_ring' THEN
            'no ''' || ring_tag_name || ''' tag naming a ring (' || array_to_string(rings, ' < ')
            || '): the cluster is in no rollout ring'
        WHEN 'lower_ring' THEN
            'ring ''' || rings[ring_rank] || ''' is not the production ring (''' || rings[len(rings)]
            || '''): only production is held to the rings'
        WHEN 'no_lower_ring' THEN
            'no cluster of a lower ring (' || array_to_string(rings[1:len(rings) - 1], ', ')
            || ') in the fleet''s history: nothing ran first'
        WHEN 'moved_first' THEN 'production ' || fail_text
        WHEN 'unreadable' THEN problem || ': what this production cluster runs cannot all be read'
        WHEN 'tags_unreadable' THEN tags_problem || ': the cluster''s ring cannot be read'
        WHEN 'nothing_to_judge' THEN 'the cluster payload names no version or node image'
        WHEN 'times_overlap' THEN 'cannot tell whether a lower ring ran first: ' || unknown_text
        ELSE 'every version and node image it runs ran in a lower ring first: ' || pass_text
    END AS message,
    ring_tag_name || '=' || coalesce(rings[ring_rank], '(none)') || '; ' || coalesce(lower_clusters, 0)
        || ' lower-ring cluster(s) in the history; items judged: ' || items AS evidence,
    failing_version AS target
FROM decided;
