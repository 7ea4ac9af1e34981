-- The tenants of the scan's subscriptions, in order.
SELECT DISTINCT payload->>'$.tenantId' AS tenant
FROM evidence
WHERE scan_id = $scan_id AND kind = 'subscription' AND payload->>'$.tenantId' IS NOT NULL
ORDER BY tenant
