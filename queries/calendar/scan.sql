-- The scan whose model tables are prepared.
SELECT scan_id, started_at FROM scan
