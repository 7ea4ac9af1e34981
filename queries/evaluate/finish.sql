-- The findings table: remediation commands ($remediations, one per distinct fail/warn resource), and the
-- waivers matched in auditor.policy.WaiverIndex ($waivers: the finding's `rid`, its new status and message, the
-- waiver as JSON).
-- `ord` is the canonical order every output follows (SQL rows come back in whatever order the threads finished).
CREATE OR REPLACE TEMP TABLE eval_findings AS
WITH remediations AS (
    SELECT unnest($remediations::STRUCT(control_id VARCHAR, resource_group VARCHAR, cluster VARCHAR,
                                        node_pool VARCHAR, target VARCHAR, remediation VARCHAR)[], recursive := true)
),
waivers AS (
    SELECT unnest($waivers::STRUCT(rid BIGINT, status VARCHAR, message VARCHAR, waiver VARCHAR)[], recursive := true)
)
, finished AS (
SELECT
    r.control_id, coalesce(w.status, r.status) AS status, r.severity, r.resource_id, r.node_pool,
    coalesce(w.message, r.message) AS message, r.title, r.cluster, r.subscription_id, r.subscription_name,
    r.resource_group, r.location, r.tags, r.evidence, coalesce(m.remediation, '') AS remediation, w.waiver
FROM eval_rows r
LEFT JOIN remediations m
  ON r.status IN ('fail', 'warn') AND m.control_id = r.control_id
 AND m.resource_group IS NOT DISTINCT FROM r.resource_group AND m.cluster IS NOT DISTINCT FROM r.cluster
 AND m.node_pool IS NOT DISTINCT FROM r.node_pool AND m.target IS NOT DISTINCT FROM r.target
LEFT JOIN waivers w ON w.rid = r.rid
)
SELECT
    row_number() OVER (ORDER BY control_id, lower(resource_id), coalesce(node_pool, ''), status, message, evidence,
                       remediation, waiver) AS ord,
    *
FROM finished
ORDER BY ord;

DROP TABLE eval_rows;
DROP TABLE eval_context;
