-- The expanded windows (the registered arrays: `occurrence_arrays`, each distinct window's occurrences with UTC
-- epoch columns already TIMESTAMPs, and `window_uses`, the configurations that use each window), the horizon
-- ($horizon_days after the scan's start) and the windows that cannot be expanded ($problems).
CREATE OR REPLACE TEMP TABLE maintenance_occurrences AS
SELECT
    u.cluster_id::VARCHAR AS cluster_id, u.config_key::VARCHAR AS config_key, u.kind::VARCHAR AS kind,
    CAST(o.starts_at AS TIMESTAMP) AS starts_at, CAST(o.ends_at AS TIMESTAMP) AS ends_at,
    CAST(o.previous_end AS TIMESTAMP) AS previous_end, o.clipped, o.phase_assumed, o.in_horizon
FROM window_uses u
JOIN occurrence_arrays o USING (window_id);

CREATE OR REPLACE TEMP TABLE maintenance_horizon AS
SELECT started_at, started_at + to_days($horizon_days::INTEGER) AS ends_at, $horizon_days::INTEGER AS days FROM scan;

CREATE OR REPLACE TEMP TABLE maintenance_window_problems AS
SELECT p.cluster_id, p.config_key, p.kind, p.problem
FROM (SELECT unnest($problems::STRUCT(cluster_id VARCHAR, config_key VARCHAR, kind VARCHAR, problem VARCHAR)[]) AS p);
