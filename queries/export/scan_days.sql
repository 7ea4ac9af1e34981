-- The committed scans and the day each started: the export's partitions.
SELECT scan_id, CAST(started_at AS DATE) FROM scans ORDER BY started_at, scan_id
