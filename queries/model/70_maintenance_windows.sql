-- What the maintenance-window controls (AKS-WIN-01, AKS-WIN-02) read, shaped once: each configuration by its
-- case-insensitive name, a summary per cluster, and why a cluster's list is missing when its call failed.
CREATE OR REPLACE TEMP TABLE maintenance_schedules AS
SELECT
    cluster_id,
    lower(config_name)          AS config_key,
    min(config_name)            AS name,
    max(form)                   AS form,
    max(duration_hours)         AS duration_hours,
    bool_or(duration_defaulted) AS defaulted,
    min(schedule_text)          AS schedule_text,
    -- Why the window cannot be judged (NULL when it can): see queries/model/40_maintenance.sql.
    string_agg(DISTINCT problem, '; ' ORDER BY problem) AS problem
FROM maintenance
WHERE config_name IS NOT NULL
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE maintenance_summary AS
SELECT
    cluster_id,
    bool_or(lower(config_name) = 'default')            AS has_legacy_default,
    string_agg(config_name, ', ' ORDER BY config_name) AS names
FROM maintenance
GROUP BY cluster_id;

-- Why a cluster's maintenance list cannot be judged even though it was collected.
CREATE OR REPLACE TEMP TABLE maintenance_list_problem AS
SELECT cluster_id, min(problem) AS problem FROM maintenance_list_problems GROUP BY cluster_id;

CREATE OR REPLACE TEMP TABLE maintenance_errors AS
SELECT scope AS cluster_id,
       min(trim(coalesce(CAST(status AS VARCHAR), '') || ' ' || coalesce(code, '') || ': ' || message)) AS error
FROM scan_errors
WHERE call = 'maintenance_configurations'
GROUP BY ALL;
