-- The fleet figures each scan's cached evaluation kept.
SELECT t.idx, e.subscriptions, e.clusters, e.pools, CAST(e.versions AS VARCHAR), e.image_age_median, e.image_age_p90
FROM evaluations e JOIN _tsel t USING (scan_id)
WHERE e.evaluator = $evaluator
