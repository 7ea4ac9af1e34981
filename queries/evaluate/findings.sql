-- Findings from the control rows: each resource's context (a cluster of the scan, a Fleet, a subscription; else
-- what its ARM id holds), a NULL message made an unknown (a control must always say why), the stopped suffix, the
-- control's severity and title ($controls). The context is read once per resource: a resource that is none of the
-- scan's clusters, Fleets or subscriptions gets what its ARM id holds. eval_rows is a view: the waivers read a few
-- of its rows (and name them by `rid`, the rowid of the control row), queries/evaluate/finish.sql stores them all once.
CREATE OR REPLACE TEMP TABLE eval_context AS
WITH subscription_names AS (
    SELECT subscription_id, min(display_name) AS display_name FROM subscriptions GROUP BY 1
),
candidates AS (
    SELECT
        1 AS priority, c.cluster_id AS resource_id,
        coalesce(nullif(c.name, ''), id_name(string_split(trim(c.cluster_id, '/'), '/'))) AS cluster,
        coalesce(nullif(c.subscription_id, ''), id_subscription(string_split(trim(c.cluster_id, '/'), '/')))
            AS subscription_id,
        coalesce(s.display_name, '') AS subscription_name,
        coalesce(nullif(c.resource_group, ''), id_group(string_split(trim(c.cluster_id, '/'), '/'))) AS resource_group,
        coalesce(c.location, '') AS location,
        CASE WHEN json_type(CAST(c.tags AS VARCHAR)) = 'OBJECT' THEN CAST(c.tags AS VARCHAR) ELSE '{}' END AS tags,
        coalesce(lower(c.power_state) = 'stopped', false) AS stopped
    FROM clusters c LEFT JOIN subscriptions s USING (subscription_id)
    UNION ALL
    -- A Fleet-level finding names a Fleet Manager resource: its name, subscription and resource group.
    SELECT
        2, f.fleet_id, coalesce(f.name, ''), coalesce(f.subscription_id, ''), coalesce(s.display_name, ''),
        coalesce(f.resource_group, ''), coalesce(f.location, ''),
        CASE WHEN json_type(CAST(f.tags AS VARCHAR)) = 'OBJECT' THEN CAST(f.tags AS VARCHAR) ELSE '{}' END, false
    FROM fleets f LEFT JOIN subscription_names s USING (subscription_id)
    UNION ALL
    -- A subscription-level finding ('/subscriptions/<id>') carries the subscription, and no cluster.
    SELECT 3, '/subscriptions/' || lower(subscription_id), '', lower(subscription_id), coalesce(min(display_name), ''),
           '', '', '{}', false
    FROM subscriptions GROUP BY lower(subscription_id)
    UNION ALL
    SELECT DISTINCT 4, '/subscriptions/' || subscription_id, '', subscription_id, '', '', '', '{}', false
    FROM clusters WHERE subscription_id IS NOT NULL
    UNION ALL
    SELECT 5, resource_id, id_name(p), id_subscription(p), '', id_group(p), '', '{}', false
    FROM (SELECT resource_id, string_split(trim(resource_id, '/'), '/') AS p
          FROM (SELECT DISTINCT resource_id FROM control_rows))
)
SELECT
    *,
    -- The resource's place in the canonical order (lower-cased id): the findings sort on this number rather than on
    -- ids that share their first hundred characters.
    dense_rank() OVER (ORDER BY lower(resource_id)) AS resource_rank
FROM (
    SELECT DISTINCT ON (resource_id) * EXCLUDE (priority)
    FROM candidates
    ORDER BY resource_id, priority, subscription_name DESC, cluster, subscription_id, resource_group, location, tags
);

CREATE OR REPLACE TEMP TABLE eval_controls AS
SELECT unnest($controls::STRUCT(control_id VARCHAR, severity VARCHAR, title VARCHAR)[], recursive := true);

CREATE OR REPLACE TEMP VIEW eval_rows AS
    SELECT
        r.rowid AS rid,
        r.control_id,
        CASE WHEN r.message IS NULL AND r.status = 'pass' THEN 'unknown' ELSE r.status END AS status,
        k.severity, r.resource_id, r.node_pool,
        coalesce(r.message, r.control_id || ' gave no message for this resource: a value it reads is missing')
            || CASE WHEN x.stopped THEN ' (cluster is stopped)' ELSE '' END AS message,
        k.title, x.cluster, x.subscription_id, x.subscription_name, x.resource_group, x.location, x.tags,
        coalesce(r.evidence, '') AS evidence,
        r.target,
        x.resource_rank
    FROM control_rows r
    JOIN eval_controls k USING (control_id)
    JOIN eval_context x USING (resource_id);
