-- Each cluster's maintenance windows as configured (the raw maintenanceWindow object).
SELECT cluster_id, config_name, CAST(payload->'$.properties.maintenanceWindow' AS VARCHAR)
FROM maintenance WHERE form = 'window'
ORDER BY cluster_id, lower(config_name)
