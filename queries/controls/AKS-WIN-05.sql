-- AKS-WIN-05: the maintenance windows themselves keep the rollout rings. A cluster's ring is the value of its
-- [ring_tag] tag ranked by [ring_order]; the last ring is production. For every window of a production cluster
-- (auto-upgrade, node-os) that opens over the model's horizon (maintenance_occurrences), its cycle runs from the
-- end of the window's previous opening (a release arriving earlier went to production while its window was open)
-- to this opening; in each cycle the first window of that kind of a lower-ring cluster must open at least
-- [ring_window_lead_hours] before the production window, so a release arriving at any time of the cycle meets a
-- lower ring first. One finding per cluster of the scan
-- (not_applicable outside production), like AKS-RNG-01.
WITH ringed AS (
    SELECT c.cluster_id, c.name, c.tag_pairs,
           lower(p.ring_tag) AS ring_tag, p.ring_tag AS ring_tag_name,
           list_transform(p.ring_order, lambda r: lower(r)) AS rings,
           array_to_string(list_transform(p.ring_order, lambda r: lower(r)), chr(31)) AS rings_key,
           p.ring_window_lead_hours AS lead_hours,
           c.cluster_id IN (SELECT cluster_id FROM maintenance_collected)
               AND c.cluster_id NOT IN (SELECT cluster_id FROM maintenance_window_problems) AS readable
    FROM clusters c
    JOIN cluster_params p USING (cluster_id)
),
specs AS (
    SELECT DISTINCT ring_tag, rings, rings_key FROM ringed
),
ranked AS (
    -- Every cluster's ring under every ring specification in use (NULL: in no ring).
    SELECT s.ring_tag, s.rings, s.rings_key, r.cluster_id, r.name, r.readable,
           list_position(s.rings, nullif(substr(list_filter(r.tag_pairs, lambda t: starts_with(t, s.ring_tag || chr(31)))[1],
                                                length(s.ring_tag) + 2), '')) AS ring_rank
    FROM specs s CROSS JOIN ringed r
),
lower_clusters AS (
    SELECT ring_tag, rings_key, count(*) AS clusters, count(*) FILTER (WHERE NOT readable) AS unreadable
    FROM ranked WHERE ring_rank BETWEEN 1 AND len(rings) - 1
    GROUP BY ALL
),
lower_occ AS (
    -- Lower-ring openings per ring specification and kind; ties at one instant name the first cluster by name.
    SELECT k.ring_tag, k.rings_key, o.kind, o.starts_at,
           arg_min('''' || k.name || ''' (' || k.rings[k.ring_rank] || ')', lower(k.name) || chr(31) || k.cluster_id) AS who
    FROM ranked k
    JOIN maintenance_occurrences o USING (cluster_id)
    WHERE k.ring_rank BETWEEN 1 AND len(k.rings) - 1
    GROUP BY ALL
),
production AS (
    SELECT r.*, k.ring_rank
    FROM ringed r
    JOIN ranked k ON k.cluster_id = r.cluster_id AND k.ring_tag = r.ring_tag AND k.rings_key = r.rings_key
),
prod_occ AS (
    SELECT p.cluster_id, p.ring_tag, p.rings_key, p.lead_hours, o.kind, o.config_key, o.starts_at, o.phase_assumed,
           -- The first opening ever has no previous one: any earlier lower-ring opening counts.
           coalesce(o.previous_end, TIMESTAMP '1970-01-01') AS cycle_start,
           o.starts_at - to_hours(p.lead_hours) AS latest_lower
    FROM production p
    JOIN maintenance_occurrences o USING (cluster_id)
    CROSS JOIN scan s
    WHERE p.ring_rank = len(p.rings) AND o.starts_at >= s.started_at
),
slots AS (
    -- Production openings shared by many clusters (a fleet repeats a few windows) are judged once.
    SELECT DISTINCT ring_tag, rings_key, kind, starts_at, cycle_start, latest_lower FROM prod_occ
),
led AS (
    -- The last lower-ring opening early enough for this production opening (as-of join).
    SELECT p.*, l.starts_at AS led_at
    FROM slots p
    ASOF LEFT JOIN lower_occ l
      ON l.ring_tag = p.ring_tag AND l.rings_key = p.rings_key AND l.kind = p.kind AND l.starts_at <= p.latest_lower
),
first_in_cycle AS (
    -- The first lower-ring opening of the cycle, early enough or not: the one the message names.
    SELECT p.*, l.starts_at AS first_at, l.who AS first_who
    FROM led p
    ASOF LEFT JOIN lower_occ l
      ON l.ring_tag = p.ring_tag AND l.rings_key = p.rings_key AND l.kind = p.kind AND l.starts_at >= p.cycle_start
),
judged AS (
    SELECT o.*, f.led_at, f.first_at, f.first_who, f.led_at IS NOT NULL AND f.led_at >= o.cycle_start AS ok
    FROM prod_occ o
    JOIN first_in_cycle f
      ON f.ring_tag = o.ring_tag AND f.rings_key = o.rings_key AND f.kind = o.kind AND f.starts_at = o.starts_at
     AND f.cycle_start = o.cycle_start AND f.latest_lower = o.latest_lower
),
per_kind AS (
    SELECT cluster_id, kind, min(config_key) AS config_key, min(lead_hours) AS lead_hours,
           count(*) AS openings,
           count(*) FILTER (WHERE NOT ok) AS failing,
           bool_or(phase_assumed) AS phase_assumed,
           arg_min(starts_at, starts_at) FILTER (WHERE NOT ok) AS fail_at,
           arg_min_null(first_at, starts_at) FILTER (WHERE NOT ok) AS fail_first_at,
           arg_min_null(first_who, starts_at) FILTER (WHERE NOT ok) AS fail_first_who,
           arg_min(cycle_start, starts_at) FILTER (WHERE NOT ok) AS fail_cycle_start,
           min(starts_at) AS next_at,
           arg_min_null(first_at, starts_at) AS next_first_at,
           arg_min_null(first_who, starts_at) AS next_first_who
    FROM judged
    GROUP BY cluster_id, kind
),
explained AS (
    SELECT *,
        CASE
            WHEN late THEN
                'production ' || config_key_name || ' opens ' || strftime(fail_at, '%Y-%m-%d %H:%M') || ' UTC, but '
                || CASE
                       WHEN fail_first_at IS NULL OR fail_first_at > fail_at THEN
                           'no lower-ring ' || kind || ' window opens between '
                           || CASE WHEN fail_cycle_start = TIMESTAMP '1970-01-01' THEN 'its start'
                                   ELSE 'the end of its previous opening (' || strftime(fail_cycle_start, '%Y-%m-%d %H:%M') || ')' END
                           || ' and it'
                           || CASE WHEN fail_first_at IS NOT NULL
                                   THEN ' (the next is ' || fail_first_who || ' at ' || strftime(fail_first_at, '%Y-%m-%d %H:%M') || ')'
                                   ELSE '' END
                       WHEN fail_first_at = fail_at THEN
                           'the first lower-ring ' || kind || ' window of that cycle, ' || fail_first_who
                           || ', opens at the same time'
                       ELSE 'the first lower-ring ' || kind || ' window of that cycle, ' || fail_first_who || ', opens '
                            || strftime(fail_first_at, '%Y-%m-%d %H:%M') || ' UTC, only '
                            || round(date_diff('minute', fail_first_at, fail_at) / 60.0, 1) || ' h before'
                   END
                || ' (lead ' || lead_hours || ' h); ' || failing || ' of ' || openings || ' production ' || kind
                || ' windows in the horizon are like this'
            ELSE
                kind || ': each of ' || openings || ' production windows follows a lower-ring window by at least '
                || lead_hours || ' h (next: ' || strftime(next_at, '%Y-%m-%d %H:%M') || ' UTC, after ' || next_first_who
                || ' at ' || strftime(next_first_at, '%Y-%m-%d %H:%M') || ' UTC)'
        END AS text
    FROM (SELECT *, CASE kind WHEN 'auto-upgrade' THEN 'aksManagedAutoUpgradeSchedule'
                              ELSE 'aksManagedNodeOSUpgradeSchedule' END AS config_key_name,
                 -- Some production opening of this kind comes too soon after the lower rings'.
                 failing > 0 AS late
          FROM per_kind)
),
per_cluster AS (
    SELECT cluster_id,
           count(*) AS kinds,
           sum(failing) AS failing,
           bool_or(phase_assumed) AS phase_assumed,
           string_agg(text, '; ' ORDER BY kind) FILTER (WHERE late) AS fail_text,
           string_agg(text, '; ' ORDER BY kind) AS all_text,
           string_agg(kind || ' ' || (openings - failing) || '/' || openings, ', ' ORDER BY kind) AS tally,
           arg_min(config_key_name, kind) FILTER (WHERE late) AS target
    FROM explained
    GROUP BY cluster_id
),
decided AS (
    SELECT r.cluster_id, r.ring_tag_name, r.rings, r.readable, k.ring_rank,
           coalesce(l.clusters, 0) AS lower_clusters, coalesce(l.unreadable, 0) AS lower_unreadable,
           c.kinds, c.failing, c.phase_assumed, c.fail_text, c.all_text, c.tally, c.target,
           CASE
               WHEN k.ring_rank IS NULL THEN 'no_ring'
               WHEN k.ring_rank < len(r.rings) THEN 'not_production'
               WHEN coalesce(l.clusters, 0) = 0 THEN 'no_lower_ring'
               WHEN NOT r.readable THEN 'windows_unreadable'
               WHEN c.kinds IS NULL THEN 'no_windows'
               WHEN c.phase_assumed THEN 'cycle_unknown'
               WHEN c.failing > 0 AND coalesce(l.unreadable, 0) > 0 THEN 'lower_unreadable'
               WHEN c.failing > 0 THEN 'too_close'
               ELSE 'in_order'
           END AS reason
    FROM ringed r
    JOIN ranked k ON k.cluster_id = r.cluster_id AND k.ring_tag = r.ring_tag AND k.rings_key = r.rings_key
    LEFT JOIN lower_clusters l ON l.ring_tag = r.ring_tag AND l.rings_key = r.rings_key
    LEFT JOIN per_cluster c ON c.cluster_id = r.cluster_id
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'windows_unreadable' THEN 'unknown'
        WHEN 'cycle_unknown' THEN 'unknown'
        WHEN 'lower_unreadable' THEN 'unknown'
        WHEN 'too_close' THEN 'fail'
        WHEN 'in_order' THEN 'pass'
        ELSE 'not_applicable'
    END AS status,
    CASE reason
        WHEN 'no_ring' THEN
            'no ''' || ring_tag_name || ''' tag naming a ring (' || array_to_string(rings, ' < ')
            || '): the cluster is in no rollout ring'
        WHEN 'not_production' THEN
            'ring ''' || rings[ring_rank] || ''' is not the production ring (''' || rings[len(rings)]
            || '''): only production windows must follow a lower ring''s'
        WHEN 'no_lower_ring' THEN
            'no cluster of a lower ring (' || array_to_string(rings[1:len(rings) - 1], ', ')
            || ') in the scan: no window can open first'
        WHEN 'windows_unreadable' THEN
            'the cluster''s maintenance windows could not be read (see AKS-WIN-01, AKS-WIN-02)'
        WHEN 'no_windows' THEN
            'the production cluster has no auto-upgrade or node-os maintenance window: upgrades are not scheduled '
            || 'at all (see AKS-WIN-01, AKS-WIN-02)'
        WHEN 'cycle_unknown' THEN
            'a production window repeats every few weeks or months without a startDate, so its cycle is unknown: '
            || all_text
        WHEN 'lower_unreadable' THEN
            'the windows of ' || lower_unreadable || ' lower-ring cluster(s) could not be read, and might open in time: '
            || fail_text
        WHEN 'too_close' THEN fail_text
        ELSE 'the rings hold in every cycle: ' || all_text
    END AS message,
    ring_tag_name || '=' || coalesce(rings[ring_rank], '(none)') || '; lower-ring clusters=' || lower_clusters
        || CASE WHEN lower_unreadable > 0 THEN ' (' || lower_unreadable || ' unreadable)' ELSE '' END
        || coalesce('; windows in time: ' || tally, '') AS evidence,
    CASE WHEN reason = 'too_close' THEN target END AS target
FROM decided;
