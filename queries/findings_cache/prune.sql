-- Keep the newest few evaluators of this scan: other policies stay cached, old tool versions go.
DELETE FROM findings WHERE scan_id = $scan_id AND evaluator NOT IN (
    SELECT evaluator FROM evaluations WHERE scan_id = $scan_id ORDER BY evaluated_at DESC LIMIT $keep
);
DELETE FROM evaluations WHERE scan_id = $scan_id AND evaluator NOT IN (
    SELECT evaluator FROM evaluations WHERE scan_id = $scan_id ORDER BY evaluated_at DESC LIMIT $keep
);
