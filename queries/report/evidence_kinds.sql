-- Evidence items of the scan per kind.
SELECT kind, count(*) FROM evidence WHERE scan_id = $scan_id GROUP BY kind ORDER BY kind
