-- The scans of the period and the earlier ones read as history: $scans, a list of
-- {idx, scan_id, started_at (UTC), in_period, partial}.
CREATE OR REPLACE TEMP TABLE period_scans AS
SELECT s.idx::INTEGER AS idx, s.scan_id::VARCHAR AS scan_id, s.started_at::TIMESTAMP AS started_at,
       s.in_period::BOOLEAN AS in_period, s.partial::BOOLEAN AS partial
FROM (SELECT unnest($scans::STRUCT(idx INTEGER, scan_id VARCHAR, started_at TIMESTAMP, in_period BOOLEAN,
                                   partial BOOLEAN)[]) AS s);
