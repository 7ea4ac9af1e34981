-- Each fleet's update runs, the newest first (recency 1 = the latest).
SELECT fleet_key, run_key, name, upgrade_type, kubernetes_version, node_image_selection, state, start_time,
       completed_time, has_status, array_to_string(selected_images, ', '),
       row_number() OVER (PARTITION BY fleet_key ORDER BY start_time DESC NULLS LAST, name) AS recency
FROM fleet_runs
ORDER BY fleet_key, recency
