-- The latest earlier scan of this store that saw clusters in a subscription, and how many (Store.scan's coverage
-- gaps: an identity that lost access cannot count them any more). The payloads are read as
-- queries/shape/clusters.sql parses them, those of the scans before $before only.
SELECT s.scan_id, count(*) AS clusters
FROM shaped_clusters((SELECT list(scan_id) FROM scans WHERE started_at < $before)) c
JOIN scans s USING (scan_id)
WHERE lower(c.subscription_text) = $subscription_id
GROUP BY s.scan_id, s.started_at
ORDER BY s.started_at DESC, s.scan_id DESC
LIMIT 1;
