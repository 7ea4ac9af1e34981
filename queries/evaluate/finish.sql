-- The findings table: the remediation command of each fail/warn finding, and the waivers matched in
-- auditor.policy.WaiverIndex ($waivers: the finding's `rid`, its new status and message, the waiver as JSON).
-- A command is its control's template ($templates: compiled by auditor.controls.remediation.compile_template, one
-- row per control, variant (NULL: the default template) and mask of missing values) with the finding's values
-- shell-quoted between the literal pieces (at most six values: compile_template refuses more). The variant is the one the finding's target names, else the default.
-- `ord` is the canonical order every output follows (SQL rows come back in whatever order the threads finished):
-- the rows are stored sorted once, and `ord` is their place (a window over the wide rows would sort them again).
CREATE OR REPLACE TEMP TABLE eval_sorted AS
WITH templates AS (
    SELECT unnest($templates::STRUCT(control_id VARCHAR, variant VARCHAR, mask INTEGER, literals VARCHAR[],
                                     fields VARCHAR[])[], recursive := true)
),
waivers AS (
    SELECT unnest($waivers::STRUCT(rid BIGINT, status VARCHAR, message VARCHAR, waiver VARCHAR)[], recursive := true)
),
to_fill AS (
    SELECT rid, control_id, resource_group, cluster, node_pool, target,
           remediation_mask(resource_group, cluster, node_pool, target) AS mask
    FROM eval_rows
    WHERE status IN ('fail', 'warn')
),
remediations AS (
    SELECT
        rid,
        -- concat() skips NULLs: a slot past the template's last field adds nothing.
        concat(
            literals[1], remediation_value(fields[1], resource_group, cluster, node_pool, target),
            literals[2], remediation_value(fields[2], resource_group, cluster, node_pool, target),
            literals[3], remediation_value(fields[3], resource_group, cluster, node_pool, target),
            literals[4], remediation_value(fields[4], resource_group, cluster, node_pool, target),
            literals[5], remediation_value(fields[5], resource_group, cluster, node_pool, target),
            literals[6], remediation_value(fields[6], resource_group, cluster, node_pool, target),
            literals[7]) AS remediation
    FROM (
        SELECT f.*, coalesce(v.literals, d.literals) AS literals, coalesce(v.fields, d.fields) AS fields
        FROM to_fill f
        LEFT JOIN templates v ON v.control_id = f.control_id AND v.variant = coalesce(f.target, '') AND v.mask = f.mask
        LEFT JOIN templates d ON d.control_id = f.control_id AND d.variant IS NULL AND d.mask = f.mask
    )
),
finished AS (
    SELECT
        r.control_id, coalesce(w.status, r.status) AS status, r.severity, r.resource_id, r.node_pool,
        coalesce(w.message, r.message) AS message, r.title, r.cluster, r.subscription_id, r.subscription_name,
        r.resource_group, r.location, r.tags, r.evidence, coalesce(m.remediation, '') AS remediation, w.waiver,
        r.resource_rank
    FROM eval_rows r
    LEFT JOIN remediations m USING (rid)
    LEFT JOIN waivers w USING (rid)
)
SELECT * FROM finished
-- resource_rank orders as lower(resource_id) does (queries/evaluate/findings.sql).
ORDER BY control_id, resource_rank, coalesce(node_pool, ''), status, message, evidence, remediation, waiver;

-- A table filled from an ORDER BY holds its rows in that order (DuckDB's preserve_insertion_order, on by default and
-- never turned off here), so each row's rowid is its place in the sort and `ord` follows it.
CREATE OR REPLACE TEMP TABLE eval_findings AS SELECT rowid + 1 AS ord, * EXCLUDE (resource_rank) FROM eval_sorted;

DROP TABLE eval_sorted;
DROP VIEW eval_rows;
DROP TABLE control_rows;
DROP TABLE eval_controls;
DROP TABLE eval_context;
