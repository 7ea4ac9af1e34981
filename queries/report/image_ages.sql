-- Node-image age in days at the scan date, one row per pool with a dated image.
SELECT date_diff('day', image_date, (SELECT as_of FROM scan)) FROM node_pools WHERE image_date IS NOT NULL
