-- Newest node image per (region, image family), from agent-pool upgrade profiles. The scope is
-- 'location|family' (or 'location|family|pool id' when every pool's profile was collected); the newest is chosen
-- by the release date inside the version (text order is wrong for Windows build.rev.YYMMDD), then by text.
CREATE OR REPLACE TEMP TABLE latest_images AS
WITH latest AS (
SELECT
    lower(regexp_replace(split_part(e.scope, '|', 1), '\s', '', 'g'))  AS location,
    split_part(e.scope, '|', 2)                                        AS image_family,
    arg_max(e.payload->>'$.properties.latestNodeImageVersion',
            (node_image_date(e.payload->>'$.properties.latestNodeImageVersion'),
             e.payload->>'$.properties.latestNodeImageVersion'))       AS latest_node_image_version
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'pool_upgrade_profile'
  AND json_type(e.payload, '$.properties.latestNodeImageVersion') = 'VARCHAR'
GROUP BY ALL
)
-- Its release date, parsed once here rather than per pool in the controls.
SELECT *, node_image_date(latest_node_image_version) AS latest_image_date FROM latest;
