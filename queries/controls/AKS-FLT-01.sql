-- AKS-FLT-01: Fleet Manager update runs of the last [fleet_lookback_days] rolled out in order (docs/fleet.md). One
-- finding per Fleet. A stage is production when a member cluster's [ring_tag] names the last ring of [ring_order];
-- when no member of a run has a ring tag, the run's last stage is production. For each production stage of each
-- run: every lower stage completed before it started (and none comes after it or shares it); an approval gate before
-- it, or a wait or an approval after the stage before it; a run reported Completed hides no failed or skipped
-- member; production node images are selected consistently. `unknown` when a run's status was not collected or is
-- malformed (stages, groups, members or gates that are not lists of objects).
WITH defaults AS (
    SELECT fleet_lookback_days, ring_tag, ring_order FROM policy_defaults
),
runs AS (
    SELECT r.*, f.fleet_id
    FROM fleet_runs r
    JOIN fleets f USING (fleet_key)
    CROSS JOIN scan s
    CROSS JOIN defaults d
    -- A run that never started has nothing to judge; a run without status cannot be dated and is kept (unknown).
    WHERE NOT r.has_status
       OR coalesce(r.completed_time, r.start_time) >= s.started_at - to_days(
              coalesce((SELECT max(p.fleet_lookback_days) FROM fleet_run_members m
                        JOIN cluster_params p ON lower(p.cluster_id) = m.cluster_key WHERE m.run_key = r.run_key),
                       d.fleet_lookback_days))
),
member_rings AS (
    -- Each run member's ring: its cluster's ring tag value ranked by ring_order (the cluster's own policy scope),
    -- NULL when the cluster is not in this scan or carries no ring tag.
    SELECT m.*,
           coalesce(len(p.ring_order), len(d.ring_order)) AS rings,
           list_position(list_transform(coalesce(p.ring_order, d.ring_order), lambda r: lower(r)),
                         split_part(list_filter(c.tag_pairs, lambda t: split_part(t, chr(31), 1)
                                                = lower(coalesce(p.ring_tag, d.ring_tag)))[1], chr(31), 2)) AS ring_rank,
           coalesce(p.ring_order, d.ring_order) AS ring_names
    FROM fleet_run_members m
    LEFT JOIN clusters c ON lower(c.cluster_id) = m.cluster_key
    LEFT JOIN cluster_params p ON p.cluster_id = c.cluster_id
    CROSS JOIN defaults d
    WHERE m.run_key IN (SELECT run_key FROM runs)
),
stage_rings AS (
    SELECT s.run_key, s.stage_index, s.stage_name, s.state, s.start_time, s.completed_time, s.after_wait_seconds,
           s.before_approvals, s.after_approvals,
           max(m.ring_rank) AS top_rank,
           min(m.ring_rank) AS low_rank,
           max(m.rings) AS rings,
           bool_or(m.ring_rank = m.rings) AS has_production,
           string_agg(DISTINCT m.ring_names[m.ring_rank], ', ' ORDER BY m.ring_names[m.ring_rank])
               FILTER (WHERE m.ring_rank < m.rings) AS lower_rings_here,
           -- Every member skipped because it already ran the target: the stage had nothing left to prove.
           coalesce(bool_and(lower(m.state) = 'skipped'
                             AND regexp_matches(coalesce(m.message, ''), 'already at|ahead of target', 'i')), false)
               AS all_at_target
    FROM fleet_run_stages s
    LEFT JOIN member_rings m ON m.run_key = s.run_key AND m.stage_index = s.stage_index
    WHERE s.run_key IN (SELECT run_key FROM runs)
    GROUP BY ALL
),
run_mode AS (
    SELECT r.run_key, r.name, r.fleet_key, r.state, r.has_status, r.upgrade_type, r.node_image_selection,
           r.start_time, r.kubernetes_version,
           coalesce(bool_or(s.top_rank IS NOT NULL), false) AS by_ring,
           max(s.stage_index) AS last_stage
    FROM runs r
    LEFT JOIN stage_rings s USING (run_key)
    GROUP BY ALL
),
production AS (
    SELECT s.*, m.name AS run_name
    FROM stage_rings s
    JOIN run_mode m USING (run_key)
    WHERE (m.by_ring AND s.has_production) OR (NOT m.by_ring AND s.stage_index = m.last_stage)
),
lower_stages AS (
    -- The stages that must finish before a production stage: by ring, every stage whose members are all of a lower
    -- ring; by position, every earlier stage.
    SELECT p.run_key, p.stage_index AS prod_index, l.*
    FROM production p
    JOIN run_mode m USING (run_key)
    JOIN stage_rings l ON l.run_key = p.run_key AND l.stage_index <> p.stage_index
    WHERE (m.by_ring AND l.top_rank IS NOT NULL AND l.top_rank < p.top_rank)
       OR (NOT m.by_ring AND l.stage_index < p.stage_index)
),
issues AS (
    -- Order: a lower stage after production, not completed, or completed after production started.
    SELECT l.run_key, 'fail' AS severity, 1 AS rank,
           'lower stage ''' || l.stage_name || ''' '
           || CASE WHEN l.stage_index > l.prod_index THEN 'comes after production stage ''' || p.stage_name || ''''
                   WHEN l.completed_time IS NULL OR lower(coalesce(l.state, '')) <> 'completed'
                   THEN 'was ' || coalesce(l.state, 'not run') || ' when production stage ''' || p.stage_name
                        || ''' started (' || strftime(p.start_time, '%Y-%m-%d %H:%M') || ')'
                   ELSE 'completed ' || strftime(l.completed_time, '%Y-%m-%d %H:%M') || ', after production stage '''
                        || p.stage_name || ''' started (' || strftime(p.start_time, '%Y-%m-%d %H:%M') || ')' END AS text
    FROM lower_stages l
    JOIN production p ON p.run_key = l.run_key AND p.stage_index = l.prod_index
    WHERE l.stage_index > l.prod_index
       OR (p.start_time IS NOT NULL AND NOT l.all_at_target
           AND (l.completed_time IS NULL OR l.completed_time > p.start_time OR lower(coalesce(l.state, '')) <> 'completed'))
    UNION ALL
    -- A production stage that also updates lower-ring clusters updates them in parallel, not first.
    SELECT run_key, 'fail', 1,
           'production stage ''' || stage_name || ''' also updates ' || lower_rings_here || ' clusters: in parallel, not first'
    FROM production
    WHERE lower_rings_here IS NOT NULL
    UNION ALL
    -- No approval before production and no wait or approval after the stage before it.
    SELECT p.run_key, 'fail', 2,
           'production stage ''' || p.stage_name || ''' has no approval gate before it'
           || CASE WHEN b.stage_name IS NULL THEN ' and no stage before it'
                   ELSE ' and stage ''' || b.stage_name || ''' before it has no wait and no approval after it' END
    FROM production p
    LEFT JOIN stage_rings b ON b.run_key = p.run_key AND b.stage_index = p.stage_index - 1
    WHERE p.before_approvals = 0
      AND NOT (coalesce(b.after_wait_seconds, 0) > 0 OR coalesce(b.after_approvals, 0) > 0)
    UNION ALL
    -- A run reported Completed with failed members.
    SELECT m.run_key, 'fail', 3,
           'reported Completed although member(s) failed: '
           || string_agg(x.member_name || ' (stage ' || x.stage_name || coalesce(': ' || x.error, '') || ')', '; '
                         ORDER BY x.member_name, x.stage_name)
    FROM run_mode m
    JOIN fleet_run_members x ON x.run_key = m.run_key AND lower(x.state) = 'failed'
    WHERE lower(coalesce(m.state, '')) = 'completed'
    GROUP BY m.run_key
    UNION ALL
    -- ...or skipped members (a member already at the target is skipped by design and not counted).
    SELECT m.run_key, 'warn', 4,
           'reported Completed although member(s) were skipped: '
           || string_agg(x.member_name || ' (stage ' || x.stage_name || coalesce(': ' || left(x.message, 160), '') || ')',
                         '; ' ORDER BY x.member_name, x.stage_name)
    FROM run_mode m
    JOIN fleet_run_members x ON x.run_key = m.run_key AND lower(x.state) = 'skipped'
    WHERE lower(coalesce(m.state, '')) = 'completed'
      AND NOT regexp_matches(coalesce(x.message, ''), 'already at|ahead of target', 'i')
    GROUP BY m.run_key
    UNION ALL
    -- Node images for production picked per region (Latest) rather than one common version (Consistent/Custom).
    SELECT m.run_key, 'warn', 5,
           'node images selected ''' || m.node_image_selection || ''' for production: each region may get an image no '
           || 'earlier stage ran (use Consistent)'
    FROM run_mode m
    WHERE lower(coalesce(m.upgrade_type, '')) IN ('full', 'nodeimageonly')
      AND lower(m.node_image_selection) = 'latest'
      AND m.run_key IN (SELECT run_key FROM production)
),
run_verdicts AS (
    SELECT m.run_key, m.name, m.fleet_key, m.start_time,
           CASE WHEN NOT m.has_status THEN 'unknown'
                WHEN bool_or(i.severity = 'fail') THEN 'fail'
                WHEN bool_or(i.severity = 'warn') THEN 'warn'
                ELSE 'pass' END AS verdict,
           string_agg(i.text, '; ' ORDER BY i.rank, i.text) AS text,
           m.by_ring,
           m.kubernetes_version
    FROM run_mode m
    LEFT JOIN issues i USING (run_key)
    GROUP BY m.run_key, m.name, m.fleet_key, m.start_time, m.has_status, m.by_ring, m.kubernetes_version
),
per_fleet AS (
    SELECT f.fleet_id, f.fleet_key, f.name AS fleet_name,
           count(v.run_key) AS runs,
           count(*) FILTER (WHERE v.verdict = 'fail') AS failing,
           count(*) FILTER (WHERE v.verdict = 'warn') AS warning,
           count(*) FILTER (WHERE v.verdict = 'unknown') AS unknown_runs,
           string_agg('run ''' || v.name || ''': ' || v.text, '. ' ORDER BY v.start_time, v.name)
               FILTER (WHERE v.verdict = 'fail') AS fail_text,
           string_agg('run ''' || v.name || ''': ' || v.text, '. ' ORDER BY v.start_time, v.name)
               FILTER (WHERE v.verdict = 'warn') AS warn_text,
           string_agg('''' || v.name || '''', ', ' ORDER BY v.start_time, v.name)
               FILTER (WHERE v.verdict = 'unknown') AS unknown_names,
           string_agg('''' || v.name || '''', ', ' ORDER BY v.start_time, v.name)
               FILTER (WHERE v.verdict = 'pass') AS pass_names,
           bool_or(NOT v.by_ring) AS by_position,
           arg_max(v.kubernetes_version, (v.start_time, v.name)) FILTER (WHERE v.verdict = 'fail') AS failing_version
    FROM fleets f
    LEFT JOIN run_verdicts v USING (fleet_key)
    GROUP BY ALL
),
errors AS (
    -- A failed query of the child resources hides the runs of every fleet in the batch it covered.
    SELECT string_agg(DISTINCT call || ': ' || error, '; ' ORDER BY call || ': ' || error) AS text
    FROM fleet_errors WHERE call = 'fleet_resources'
),
decided AS (
    SELECT
        p.*, d.fleet_lookback_days, d.ring_tag, e.text AS collection_error,
        CASE WHEN p.failing > 0 THEN 'out_of_order'
             WHEN p.warning > 0 THEN 'reservations'
             WHEN p.unknown_runs > 0 THEN 'runs_unreadable'
             WHEN e.text IS NOT NULL THEN 'runs_not_collected'
             WHEN p.runs > 0 THEN 'in_order'
             ELSE 'no_runs' END AS reason
    FROM per_fleet p
    CROSS JOIN defaults d
    CROSS JOIN errors e
)
SELECT
    fleet_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'out_of_order' THEN 'fail'
        WHEN 'reservations' THEN 'warn'
        WHEN 'in_order' THEN 'pass'
        WHEN 'no_runs' THEN 'not_applicable'
        ELSE 'unknown' END AS status,
    CASE reason
        WHEN 'out_of_order' THEN
             failing || ' of ' || runs || ' update run(s) of fleet ' || fleet_name || ' in the last '
             || fleet_lookback_days || ' days did not roll out in order: ' || fail_text
             || coalesce('. Also: ' || warn_text, '')
        WHEN 'reservations' THEN
             warning || ' of ' || runs || ' update run(s) rolled out in order with reservations: ' || warn_text
        WHEN 'runs_unreadable' THEN
             'the status of update run(s) ' || unknown_names
             || ' was not collected or cannot be read: their order cannot be judged'
        WHEN 'runs_not_collected' THEN
             'the fleet''s update runs could not be collected: ' || collection_error
        WHEN 'in_order' THEN
             runs || ' update run(s) in the last ' || fleet_lookback_days || ' days rolled out in order, production '
             || 'gated' || CASE WHEN by_position THEN ' (production judged by stage position: no member has a '''
                                || ring_tag || ''' tag)' ELSE '' END || ': ' || pass_names
        ELSE 'no update run started in the last ' || fleet_lookback_days || ' days: nothing to judge' END AS message,
    'fleet ' || fleet_name || ': ' || runs || ' update run(s) judged (Resource Graph aksresources); '
        || 'lookback ' || fleet_lookback_days || ' days' AS evidence,
    failing_version AS target
FROM decided;
