-- Node pools per node-image family.
SELECT image_family, count(*) FROM node_pools WHERE image_family IS NOT NULL GROUP BY 1 ORDER BY 1
