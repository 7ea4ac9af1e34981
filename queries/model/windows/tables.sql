-- The expanded windows (the registered arrays `occurrence_arrays`, UTC epoch columns already TIMESTAMPs), the
-- horizon ($horizon_days after the scan's start) and the windows that cannot be expanded ($problems).
CREATE OR REPLACE TEMP TABLE maintenance_occurrences AS
SELECT
    cluster_id::VARCHAR AS cluster_id, config_key::VARCHAR AS config_key, kind::VARCHAR AS kind,
    CAST(starts_at AS TIMESTAMP) AS starts_at, CAST(ends_at AS TIMESTAMP) AS ends_at,
    CAST(previous_end AS TIMESTAMP) AS previous_end, clipped, phase_assumed, in_horizon
FROM occurrence_arrays;

CREATE OR REPLACE TEMP TABLE maintenance_horizon AS
SELECT started_at, started_at + to_days($horizon_days::INTEGER) AS ends_at, $horizon_days::INTEGER AS days FROM scan;

CREATE OR REPLACE TEMP TABLE maintenance_window_problems AS
SELECT p.cluster_id, p.config_key, p.kind, p.problem
FROM (SELECT unnest($problems::STRUCT(cluster_id VARCHAR, config_key VARCHAR, kind VARCHAR, problem VARCHAR)[]) AS p);
