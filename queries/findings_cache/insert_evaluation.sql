-- The evaluation's row: key, policy, tool, when, and the fleet figures.
INSERT INTO evaluations
SELECT $scan_id, $evaluator, evidence_sha256, $policy_sha256, $policy_source, $tool_version, $evaluated_at,
       $findings, $subscriptions, $clusters, $pools, $versions, $image_age_median, $image_age_p90
FROM scans WHERE scan_id = $scan_id
