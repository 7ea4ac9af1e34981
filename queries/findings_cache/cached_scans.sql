-- Scans with a usable evaluation under this key: only while the scan's evidence is what was evaluated.
SELECT e.scan_id
FROM evaluations e JOIN scans s ON s.scan_id = e.scan_id AND s.evidence_sha256 = e.evidence_sha256
WHERE e.evaluator = $evaluator
