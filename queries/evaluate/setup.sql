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
