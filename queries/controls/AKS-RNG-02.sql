-- AKS-RNG-02: staging mirrors production. A cluster's ring is the value of its [ring_tag] tag ranked by
-- [ring_order]; the last ring is production. For every pool of a production cluster, some pool of a lower-ring
-- cluster has the same OS SKU, image family and mode, and upgrade settings no gentler than production's: it upgrades
-- at least as large a share of its nodes at once (maxSurge, and maxUnavailable; percentages rounded up to nodes,
-- service defaults 10% and 0), with a drain timeout no longer (default 30 min) and a soak no longer (default 0).
-- Then a node-image or Kubernetes rollout meets in a lower ring what it will meet in production. One finding per
-- cluster of the scan (not_applicable outside production), like AKS-RNG-01. Pools are read from pool_rollout
-- (queries/model/82_pool_rollout.sql): a malformed entry, or a drain timeout or soak present but unreadable, cannot
-- be compared (never its service default).
WITH ringed AS (
    SELECT c.cluster_id, c.name, c.tag_pairs,
           lower(p.ring_tag) AS ring_tag, p.ring_tag AS ring_tag_name,
           list_transform(p.ring_order, lambda r: lower(r)) AS rings,
           array_to_string(list_transform(p.ring_order, lambda r: lower(r)), chr(31)) AS rings_key
    FROM clusters c
    JOIN cluster_params p USING (cluster_id)
),
specs AS (
    SELECT DISTINCT ring_tag, rings, rings_key FROM ringed
),
ranked AS (
    SELECT s.ring_tag, s.rings, s.rings_key, r.cluster_id, r.name,
           list_position(s.rings, nullif(substr(list_filter(r.tag_pairs, lambda t: starts_with(t, s.ring_tag || chr(31)))[1],
                                                length(s.ring_tag) + 2), '')) AS ring_rank
    FROM specs s CROSS JOIN ringed r
),
pools AS (
    SELECT p.cluster_id, p.pool_name, p.pool_problem, p.node_count, p.mode, p.image_family,
           lower(coalesce(p.os_sku, p.os_type)) AS os_key, coalesce(p.os_sku, p.os_type) AS os_name,
           coalesce(nullif(trim(p.max_surge_raw), ''), '10%') AS surge,
           coalesce(nullif(trim(p.max_unavailable_raw), ''), '0') AS unavailable,
           -- NULL when present but unreadable: the service default applies only to an absent value.
           CASE WHEN p.drain_timeout_raw IS NULL THEN 30 ELSE p.drain_timeout END AS drain,
           CASE WHEN p.soak_raw IS NULL THEN 0 ELSE p.soak END AS soak,
           -- No node count, or none: no share of the pool to compute.
           coalesce(p.node_count, 0) = 0 AS unsized
    FROM pool_rollout p
),
shares AS (
    -- The share of the pool upgraded at once by each setting; NULL when it cannot be read or the size is unknown.
    SELECT *,
        CASE WHEN surge_value(surge) IS NULL OR unsized THEN NULL
             WHEN surge_is_pct(surge) THEN least(1.0, ceil(node_count * surge_value(surge) / 100.0) / node_count)
             ELSE least(1.0, surge_value(surge) / node_count) END AS surge_share,
        CASE WHEN surge_value(unavailable) IS NULL OR unsized THEN NULL
             WHEN surge_is_pct(unavailable) THEN least(1.0, ceil(node_count * surge_value(unavailable) / 100.0) / node_count)
             ELSE least(1.0, surge_value(unavailable) / node_count) END AS unavailable_share
    FROM pools
),
described AS (
    SELECT *,
        'maxSurge ' || surge || ', maxUnavailable ' || unavailable || ', drain '
        || coalesce(drain || ' min', 'unreadable') || ', soak ' || coalesce(soak || ' min', 'unreadable') AS settings,
        '''' || pool_name || ''' (' || coalesce(os_name, '?') || ', ' || coalesce(image_family, 'unknown image family')
        || ', ' || mode || '; maxSurge ' || surge || ', maxUnavailable ' || unavailable || ', drain '
        || coalesce(drain || ' min', 'unreadable') || ', soak ' || coalesce(soak || ' min', 'unreadable') || ')' AS text
    FROM shares
),
production AS (
    SELECT r.cluster_id, r.name, r.ring_tag, r.rings_key, d.pool_name, d.pool_problem, d.os_key, d.image_family, d.mode,
           d.surge_share, d.unavailable_share, d.drain, d.soak, d.text
    FROM ringed r
    JOIN ranked k ON k.cluster_id = r.cluster_id AND k.ring_tag = r.ring_tag AND k.rings_key = r.rings_key
    JOIN described d ON d.cluster_id = r.cluster_id
    WHERE k.ring_rank = len(r.rings)
),
lower_pools AS (
    SELECT k.ring_tag, k.rings_key, k.name, k.rings[k.ring_rank] AS ring, d.*
    FROM ranked k
    JOIN described d ON d.cluster_id = k.cluster_id
    WHERE k.ring_rank BETWEEN 1 AND len(k.rings) - 1
),
lower_settings AS (
    -- Lower-ring pools reduced to their distinct kinds and settings (a fleet repeats a few), each with an example.
    SELECT ring_tag, rings_key, os_key, image_family, lower(mode) AS mode_key, surge_share, unavailable_share, drain,
           soak, min('''' || name || '/' || pool_name || ''' (' || ring || ')') AS example,
           min('''' || name || '/' || pool_name || ''' (' || ring || '): ' || settings) AS described
    FROM lower_pools
    GROUP BY ALL
),
production_settings AS (
    SELECT DISTINCT ring_tag, rings_key, os_key, image_family, lower(mode) AS mode_key, surge_share,
           unavailable_share, drain, soak
    FROM production
),
judged_settings AS (
    -- Per production kind and settings: lower-ring pools of the same kind, and those no gentler.
    SELECT p.ring_tag, p.rings_key, p.os_key, p.image_family, p.mode_key, p.surge_share, p.unavailable_share,
           p.drain, p.soak,
           count(l.mode_key) AS same_kind,
           count(l.mode_key) FILTER (
               WHERE l.surge_share >= p.surge_share AND l.unavailable_share >= p.unavailable_share
                 AND l.drain <= p.drain AND l.soak <= p.soak) AS mirrors,
           count(l.mode_key) FILTER (
               WHERE l.surge_share IS NULL OR l.unavailable_share IS NULL OR l.drain IS NULL OR l.soak IS NULL
           ) AS unreadable,
           min(l.example) FILTER (
               WHERE l.surge_share >= p.surge_share AND l.unavailable_share >= p.unavailable_share
                 AND l.drain <= p.drain AND l.soak <= p.soak) AS mirror,
           min(l.described) AS gentler
    FROM production_settings p
    LEFT JOIN lower_settings l
      ON l.ring_tag = p.ring_tag AND l.rings_key = p.rings_key AND l.os_key IS NOT DISTINCT FROM p.os_key
     AND l.image_family = p.image_family AND l.mode_key = p.mode_key
    GROUP BY ALL
),
matched AS (
    SELECT p.cluster_id, p.pool_name, p.pool_problem, p.text, p.image_family, p.surge_share, p.unavailable_share,
           p.drain, p.soak,
           j.same_kind, j.mirrors, j.unreadable, j.mirror, j.gentler
    FROM production p
    JOIN judged_settings j
      ON j.ring_tag = p.ring_tag AND j.rings_key = p.rings_key AND j.os_key IS NOT DISTINCT FROM p.os_key
     AND j.image_family IS NOT DISTINCT FROM p.image_family AND j.mode_key = lower(p.mode)
     AND j.surge_share IS NOT DISTINCT FROM p.surge_share
     AND j.unavailable_share IS NOT DISTINCT FROM p.unavailable_share
     AND j.drain IS NOT DISTINCT FROM p.drain AND j.soak IS NOT DISTINCT FROM p.soak
),
judged AS (
    SELECT *,
        CASE
            WHEN pool_problem IS NOT NULL THEN 'unknown'
            WHEN mirrors > 0 THEN 'pass'
            WHEN image_family IS NULL OR surge_share IS NULL OR unavailable_share IS NULL OR drain IS NULL
                 OR soak IS NULL THEN 'unknown'
            WHEN unreadable > 0 THEN 'unknown'
            ELSE 'warn'
        END AS outcome
    FROM matched
),
per_cluster AS (
    SELECT cluster_id,
           count(*) AS pools,
           count(*) FILTER (WHERE outcome = 'warn') AS unmirrored,
           count(*) FILTER (WHERE outcome = 'unknown') AS undecided,
           string_agg(text || CASE WHEN same_kind = 0 THEN ': no lower-ring pool has its OS SKU, image family and mode'
                                   ELSE ': lower-ring pools of that kind upgrade more gently (e.g. ' || gentler || ')' END,
                      '; ' ORDER BY pool_name, text) FILTER (WHERE outcome = 'warn') AS warn_text,
           string_agg(coalesce(pool_problem, text || ': cannot be compared (image family or upgrade settings unreadable)'),
                      '; ' ORDER BY pool_name, text)
               FILTER (WHERE outcome = 'unknown') AS unknown_text,
           string_agg('''' || pool_name || ''' by ' || mirror, '; ' ORDER BY pool_name, text) FILTER (WHERE outcome = 'pass')
               AS pass_text,
           min(pool_name) FILTER (WHERE outcome = 'warn') AS target
    FROM judged
    GROUP BY cluster_id
),
lower_rings AS (
    SELECT ring_tag, rings_key, count(*) AS clusters FROM ranked WHERE ring_rank BETWEEN 1 AND len(rings) - 1
    GROUP BY ALL
),
decided AS (
    SELECT r.cluster_id, r.ring_tag_name, r.rings, k.ring_rank, coalesce(l.clusters, 0) AS lower_clusters,
           c.pools, c.unmirrored, c.undecided, c.warn_text, c.unknown_text, c.pass_text, c.target,
           CASE
               WHEN k.ring_rank IS NULL THEN 'no_ring'
               WHEN k.ring_rank < len(r.rings) THEN 'not_production'
               WHEN coalesce(l.clusters, 0) = 0 THEN 'no_lower_ring'
               WHEN c.pools IS NULL THEN 'no_pools'
               WHEN c.unmirrored > 0 THEN 'unmirrored'
               WHEN c.undecided > 0 THEN 'undecided'
               ELSE 'mirrored'
           END AS reason
    FROM ringed r
    JOIN ranked k ON k.cluster_id = r.cluster_id AND k.ring_tag = r.ring_tag AND k.rings_key = r.rings_key
    LEFT JOIN lower_rings l ON l.ring_tag = r.ring_tag AND l.rings_key = r.rings_key
    LEFT JOIN per_cluster c ON c.cluster_id = r.cluster_id
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'unmirrored' THEN 'warn'
        WHEN 'undecided' THEN 'unknown'
        WHEN 'mirrored' THEN 'pass'
        ELSE 'not_applicable'
    END AS status,
    CASE reason
        WHEN 'no_ring' THEN
            'no ''' || ring_tag_name || ''' tag naming a ring (' || array_to_string(rings, ' < ')
            || '): the cluster is in no rollout ring'
        WHEN 'not_production' THEN
            'ring ''' || rings[ring_rank] || ''' is not the production ring (''' || rings[len(rings)]
            || '''): only production pools need a mirror'
        WHEN 'no_lower_ring' THEN
            'no cluster of a lower ring (' || array_to_string(rings[1:len(rings) - 1], ', ') || ') in the scan to mirror it'
        WHEN 'no_pools' THEN 'the cluster payload lists no node pool'
        WHEN 'unmirrored' THEN
            unmirrored || ' of ' || pools || ' production pool(s) have no mirror in a lower ring: ' || warn_text
            || coalesce('; ' || unknown_text, '')
        WHEN 'undecided' THEN unknown_text || coalesce('; mirrored: ' || pass_text, '')
        ELSE 'every production pool has a lower-ring mirror: ' || pass_text
    END AS message,
    ring_tag_name || '=' || coalesce(rings[ring_rank], '(none)') || '; lower-ring clusters=' || lower_clusters
        || coalesce('; pools=' || pools || ', unmirrored=' || unmirrored || ', undecided=' || undecided, '')
        || '; disruption budgets not compared (no Kubernetes evidence)' AS evidence,
    CASE WHEN reason = 'unmirrored' THEN target END AS target
FROM decided;
