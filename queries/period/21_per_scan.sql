-- Verdicts per scan of the period and control, for the compliance heat map of the period report.
SELECT s.scan_id, o.control_id, o.status, count(*) AS n
FROM period_observations o
JOIN period_scans s ON s.idx = o.idx
WHERE o.in_period
GROUP BY ALL
ORDER BY min(s.idx), o.control_id, o.status;
