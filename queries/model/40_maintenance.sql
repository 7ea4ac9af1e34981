-- Maintenance configurations per cluster. `collected` clusters have a list (possibly empty);
-- clusters whose list call failed have no row in maintenance_collected.
CREATE OR REPLACE TEMP TABLE maintenance_collected AS
SELECT e.scope AS cluster_id FROM evidence e WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations';

CREATE OR REPLACE TEMP TABLE maintenance AS
WITH items AS (
    SELECT e.scope AS cluster_id, unnest(CAST(e.payload->'$.value' AS JSON[])) AS m
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'maintenance_configurations'
)
SELECT
    cluster_id,
    m->>'$.name'                                                    AS config_name,
    CASE WHEN (m->'$.properties.maintenanceWindow') IS NOT NULL THEN 'window' ELSE 'legacy' END AS form,
    -- durationHours defaults to 24 when absent (MaintenanceConfiguration.tsp).
    CASE WHEN (m->'$.properties.maintenanceWindow') IS NOT NULL
         THEN coalesce(CAST(m->>'$.properties.maintenanceWindow.durationHours' AS INTEGER), 24) END AS duration_hours,
    m->'$.properties.maintenanceWindow.schedule'                    AS schedule,
    m                                                               AS payload
FROM items;
