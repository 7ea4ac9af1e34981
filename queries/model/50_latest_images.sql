-- Newest node image per (region, image family), from agent-pool upgrade profiles.
CREATE OR REPLACE TEMP TABLE latest_images AS
SELECT
    split_part(e.scope, '|', 1)                                        AS location,
    split_part(e.scope, '|', 2)                                        AS image_family,
    max(e.payload->>'$.properties.latestNodeImageVersion')             AS latest_node_image_version
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'pool_upgrade_profile'
GROUP BY ALL;
