-- What the maintenance-window controls (AKS-WIN-01, AKS-WIN-02) read, shaped once: each configuration by its
-- case-insensitive name, a summary per cluster, and why a cluster's list is missing when its call failed.
CREATE OR REPLACE TEMP TABLE maintenance_schedules AS
SELECT
    cluster_id,
    lower(config_name)          AS config_key,
    min(config_name)            AS name,
    arg_min(form, config_name)  AS form,
    max(duration_hours)         AS duration_hours,
    bool_or(duration_defaulted) AS defaulted,
    arg_min(schedule_text, config_name) AS schedule_text
FROM maintenance
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE maintenance_summary AS
SELECT
    cluster_id,
    bool_or(lower(config_name) = 'default')            AS has_legacy_default,
    string_agg(config_name, ', ' ORDER BY config_name) AS names
FROM maintenance
GROUP BY cluster_id;

CREATE OR REPLACE TEMP TABLE maintenance_errors AS
SELECT scope AS cluster_id,
       min(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message)) AS error
FROM scan_errors
WHERE call = 'maintenance_configurations'
GROUP BY ALL;
