-- Per control and resource: in how many scans of the period the resource complied (docs/period.md).
-- Reads the findings cache (queries/schema/0003_findings_cache.sql) under the evaluator $evaluator.
-- Complied: pass or waived (an approved exception). Observed: every verdict but not_applicable (a control that
-- does not apply is neither). unknown is observed and not complied: missing evidence is never compliance.

CREATE OR REPLACE TEMP TABLE period_observations AS
SELECT s.idx, s.in_period, f.key_id AS k, f.control_id, f.status
FROM findings f
JOIN period_scans s USING (scan_id)
WHERE f.evaluator = $evaluator;

WITH shares AS (
    SELECT
        k,
        count(*) FILTER (WHERE status != 'not_applicable')      AS observed,
        count(*) FILTER (WHERE status IN ('pass', 'waived'))    AS complied,
        count(*) FILTER (WHERE status = 'waived')               AS waived,
        count(*) FILTER (WHERE status = 'fail')                 AS failed,
        count(*) FILTER (WHERE status = 'warn')                 AS warned,
        count(*) FILTER (WHERE status = 'unknown')              AS unknown
    FROM period_observations
    WHERE in_period
    GROUP BY k
)
SELECT
    key.control_id,
    key.resource_id,
    nullif(key.node_pool, '')   AS node_pool,
    s.observed, s.complied, s.waived, s.failed, s.warned, s.unknown,
    round(s.complied / s.observed, 4) AS share
FROM shares s
JOIN finding_keys key ON key.key_id = s.k
WHERE s.observed > 0
ORDER BY key.control_id, key.resource_key, key.node_pool;
