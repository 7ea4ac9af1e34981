-- The scan's maintenance windows to expand (auditor/model/windows.py), one row per configuration.
SELECT cluster_id, lower(config_name) AS config_key, CAST(payload->'$.properties.maintenanceWindow' AS VARCHAR) AS window_json
FROM maintenance WHERE form = 'window' ORDER BY cluster_id, lower(config_name);
