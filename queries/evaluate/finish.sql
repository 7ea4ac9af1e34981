-- The findings table: the remediation command of each fail/warn finding, and the waivers matched in
-- auditor.policy.WaiverIndex ($waivers: the finding's `rid`, its new status and message, the waiver as JSON).
-- A command is its control's template ($templates: compiled by auditor.controls.remediation.compile_template, one
-- row per control, variant (NULL: the default template) and mask of missing values) with the finding's values
-- shell-quoted between the literal pieces (at most six values: compile_template refuses more). The variant is the one the finding's target names, else the default.
-- `ord` is the canonical order every output follows (SQL rows come back in whatever order the threads finished), and
-- readers ask for it (ORDER BY ord). The rows are not stored sorted: sorting the wide rows (messages, evidence, tags)
-- cost more than the whole rest of the evaluation, while `ord` needs only the narrow keys. Control, resource, pool and
-- status almost always name one finding; only findings that share them are ranked by message, evidence, remediation
-- and waiver, so the window sorts one number per finding.
CREATE OR REPLACE TEMP TABLE eval_findings AS
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
        r.rid, r.resource_rank
    FROM eval_rows r
    LEFT JOIN remediations m USING (rid)
    LEFT JOIN waivers w USING (rid)
),
pool_ranks AS (
    SELECT pool, row_number() OVER (ORDER BY pool) AS pool_rank
    FROM (SELECT DISTINCT coalesce(node_pool, '') AS pool FROM finished)
),
control_ranks AS (
    SELECT control_id, row_number() OVER (ORDER BY control_id) AS control_rank FROM eval_controls
),
keys AS (
    -- Control, resource, pool and status as one number that sorts as they do (HUGEINT: no count of resources or
    -- pools can overflow it); a status ranks by its place among $statuses sorted as strings.
    SELECT
        f.rid,
        (c.control_rank::HUGEINT << 90) + (f.resource_rank::HUGEINT << 48) + (p.pool_rank::HUGEINT << 6)
            + list_position(list_sort($statuses::VARCHAR[]), f.status) AS key
    FROM finished f
    JOIN control_ranks c USING (control_id)
    JOIN pool_ranks p ON p.pool = coalesce(f.node_pool, '')
),
numbered AS (
    -- Each finding's place by its key; a key that a neighbour shares marks findings that need the rest of the order.
    SELECT rid, key, row_number() OVER w AS place,
           coalesce(lag(key) OVER w = key, false) OR coalesce(lead(key) OVER w = key, false) AS tied
    FROM keys
    WINDOW w AS (ORDER BY key)
),
ties AS (
    -- Findings that share a key hold consecutive places: the first of them, then message, evidence, remediation, waiver.
    SELECT n.rid,
           min(n.place) OVER (PARTITION BY n.key)
           + row_number() OVER (PARTITION BY n.key ORDER BY f.message, f.evidence, f.remediation, f.waiver) - 1 AS ord
    FROM numbered n
    JOIN finished f USING (rid)
    WHERE n.tied
),
ordered AS (
    SELECT n.rid, coalesce(t.ord, n.place) AS ord FROM numbered n LEFT JOIN ties t USING (rid)
)
SELECT o.ord, f.* EXCLUDE (rid, resource_rank)
FROM finished f JOIN ordered o USING (rid);

DROP VIEW eval_rows;
DROP TABLE control_rows;
DROP TABLE eval_controls;
DROP TABLE eval_context;
