-- The population of each scan of the period, so an auditor can reconcile it (docs/period.md): the subscriptions
-- the identity listed, those that hold clusters, clusters and pools, and the calls that failed for good (403s
-- counted apart: a subscription the identity cannot read is missing evidence, and the scan is partial).
-- Where the scan recorded its population reconciliation (scan_coverage, schema version 4, docs/coverage.md): the
-- subscriptions in scope, those proven complete and those not covered, and the clusters the ARM lists counted and
-- Resource Graph missed. A scan made before it has coverage_recorded false and those columns NULL: "not recorded",
-- never zero.
WITH subs AS (
    SELECT e.scan_id, count(*) AS listed
    FROM evidence e SEMI JOIN period_scans s ON s.scan_id = e.scan_id
    WHERE e.kind = 'subscription'
    GROUP BY ALL
),
fleet AS (
    SELECT c.idx, count(DISTINCT c.subscription_id) AS with_clusters, count(*) AS clusters
    FROM period_clusters c GROUP BY ALL
),
pools AS (
    SELECT idx, count(*) AS pools FROM period_pools GROUP BY ALL
),
errors AS (
    SELECT e.scan_id, count(*) AS errors, count(DISTINCT e.scope) FILTER (WHERE e.status = 403) AS forbidden
    FROM collection_errors e SEMI JOIN period_scans s ON s.scan_id = e.scan_id
    GROUP BY ALL
),
coverage AS (
    SELECT v.scan_id,
           count(*)                                        AS in_scope,
           count(*) FILTER (WHERE v.status = 'complete')   AS complete,
           count(*) FILTER (WHERE v.status <> 'complete')  AS not_covered,
           sum(v.arm_clusters)                             AS arm_clusters,
           sum(v.missing_clusters)                         AS missing_clusters
    FROM scan_coverage v SEMI JOIN period_scans s ON s.scan_id = v.scan_id
    GROUP BY ALL
)
SELECT
    s.scan_id,
    s.started_at,
    sc.status,
    coalesce(subs.listed, 0)          AS subscriptions_listed,
    coalesce(fleet.with_clusters, 0)  AS subscriptions_with_clusters,
    coalesce(fleet.clusters, 0)       AS clusters,
    coalesce(pools.pools, 0)          AS pools,
    coalesce(errors.errors, 0)        AS collection_errors,
    coalesce(errors.forbidden, 0)     AS forbidden_scopes,
    coverage.scan_id IS NOT NULL      AS coverage_recorded,
    coverage.in_scope                 AS subscriptions_in_scope,
    coverage.complete                 AS subscriptions_complete,
    coverage.not_covered              AS subscriptions_not_covered,
    CAST(coverage.arm_clusters AS BIGINT)     AS arm_clusters,
    CAST(coverage.missing_clusters AS BIGINT) AS missing_clusters
FROM period_scans s
JOIN scans sc USING (scan_id)
LEFT JOIN subs USING (scan_id)
LEFT JOIN errors USING (scan_id)
LEFT JOIN coverage USING (scan_id)
LEFT JOIN fleet ON fleet.idx = s.idx
LEFT JOIN pools ON pools.idx = s.idx
WHERE s.in_period
ORDER BY s.idx;
