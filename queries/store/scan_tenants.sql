-- The tenants of each scan's subscriptions, read from its evidence: for scans recorded before the scope kept them.
SELECT
    scan_id,
    list(DISTINCT lower(payload->>'$.tenantId') ORDER BY lower(payload->>'$.tenantId'))
        FILTER (WHERE payload->>'$.tenantId' IS NOT NULL) AS tenants
FROM evidence
WHERE kind = 'subscription' AND scan_id IN (SELECT unnest($scan_ids::VARCHAR[]))
GROUP BY scan_id;
