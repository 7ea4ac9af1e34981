-- Clusters and node pools of the scan.
SELECT (SELECT count(*) FROM clusters), (SELECT count(*) FROM node_pools)
