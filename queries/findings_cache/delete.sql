-- Drop this scan's evaluation under this key (it is about to be written again).
DELETE FROM findings WHERE scan_id = $scan_id AND evaluator = $evaluator;
DELETE FROM evaluations WHERE scan_id = $scan_id AND evaluator = $evaluator;
