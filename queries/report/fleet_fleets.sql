-- The Fleet Manager fleets of the scan, with their subscription's name and member count, by name then id.
SELECT f.fleet_key, f.fleet_id, f.name, f.resource_group, f.location, coalesce(s.display_name, f.subscription_id),
       (SELECT count(*) FROM fleet_members m WHERE m.fleet_key = f.fleet_key)
FROM fleets f
LEFT JOIN (SELECT subscription_id, min(display_name) AS display_name FROM subscriptions GROUP BY 1) s
    USING (subscription_id)
ORDER BY f.name, f.fleet_key
