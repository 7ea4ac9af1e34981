-- The rows every control returns, tagged with the control (auditor/controls/evaluate.py); and the ARM id parts a
-- finding falls back on when its resource is not in the scan's context.
CREATE OR REPLACE TEMP TABLE control_rows (
    control_id VARCHAR, resource_id VARCHAR, node_pool VARCHAR, status VARCHAR, message VARCHAR, evidence VARCHAR,
    target VARCHAR
);

-- Name, subscription (lower case) and resource group read from an ARM id, '' where the id does not hold them.
CREATE OR REPLACE TEMP MACRO id_name(p) AS CASE WHEN len(p) > 7 AND lower(p[7]) = 'managedclusters' THEN p[8] ELSE '' END;
CREATE OR REPLACE TEMP MACRO id_subscription(p) AS
    CASE WHEN len(p) > 1 AND lower(p[1]) = 'subscriptions' THEN lower(p[2]) ELSE '' END;
CREATE OR REPLACE TEMP MACRO id_group(p) AS CASE WHEN len(p) > 3 AND lower(p[3]) = 'resourcegroups' THEN p[4] ELSE '' END;

-- A value as one shell word, exactly as Python's shlex.quote writes it (auditor/controls/remediation.py): as it is
-- when every character is safe, else in single quotes, each ' written as '"'"'. Names in the evidence are untrusted.
CREATE OR REPLACE TEMP MACRO shell_quote(s) AS
    CASE
        WHEN s = '' THEN ''''''
        WHEN regexp_full_match(s, '[A-Za-z0-9_@%+=:,./-]+') THEN s
        ELSE '''' || replace(s, '''', '''"''"''') || ''''
    END;

-- Which values a remediation command lacks, as the mask of auditor.controls.remediation.compile_template: bit 0 the
-- resource group, 1 the cluster, 2 the pool (also when it is named only by its place, agentPoolProfiles[i]), 3 the
-- target.
CREATE OR REPLACE TEMP MACRO remediation_mask(resource_group, cluster, pool, target) AS
    CASE WHEN coalesce(resource_group, '') = '' THEN 1 ELSE 0 END
    + CASE WHEN coalesce(cluster, '') = '' THEN 2 ELSE 0 END
    + CASE WHEN coalesce(pool, '') = '' OR regexp_full_match(pool, 'agentPoolProfiles\[[0-9]+\]') THEN 4 ELSE 0 END
    + CASE WHEN coalesce(target, '') = '' THEN 8 ELSE 0 END;

-- The value a remediation template's field names, shell-quoted (NULL for no field).
CREATE OR REPLACE TEMP MACRO remediation_value(field, resource_group, cluster, pool, target) AS
    CASE field
        WHEN 'resource_group' THEN shell_quote(resource_group)
        WHEN 'cluster' THEN shell_quote(cluster)
        WHEN 'pool' THEN shell_quote(pool)
        WHEN 'target' THEN shell_quote(target)
    END;
