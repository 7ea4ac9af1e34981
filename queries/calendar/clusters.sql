-- Every cluster of the scan with what the calendar shows of it: names, subscription, tags, channels.
SELECT c.cluster_id, c.name, c.subscription_id, coalesce(s.display_name, ''), c.resource_group,
       CAST(c.tags AS VARCHAR), c.upgrade_channel, coalesce(c.node_os_upgrade_channel_raw, 'not set')
FROM clusters c
LEFT JOIN (
    SELECT lower(subscription_id) AS subscription_id, min(display_name) AS display_name
    FROM subscriptions GROUP BY 1
) s USING (subscription_id)
ORDER BY c.cluster_id
