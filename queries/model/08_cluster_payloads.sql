-- The scan's cluster payloads, parsed once (queries/shape/clusters.sql): what every model file that reads the
-- cluster evidence (clusters, unseen_nodes, cluster_override, cluster_skus) reads instead of the JSON; node_pools
-- reads the pools as queries/shape/pools.sql parses them.
CREATE OR REPLACE TEMP TABLE cluster_payloads AS SELECT * FROM shaped_clusters([$scan_id]);
