-- The latest earlier scan of this store that saw clusters in a subscription, and how many (Store.scan's coverage
-- gaps: an identity that lost access cannot count them any more).
SELECT s.scan_id, count(*) AS clusters
FROM evidence e JOIN scans s USING (scan_id)
WHERE e.kind = 'cluster' AND lower(e.payload->>'$.subscriptionId') = $subscription_id AND s.started_at < $before
GROUP BY s.scan_id, s.started_at
ORDER BY s.started_at DESC, s.scan_id DESC
LIMIT 1;
