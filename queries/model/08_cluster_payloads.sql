-- The scan's cluster payloads, parsed once (queries/shape/clusters.sql): what every model file that reads the
-- cluster evidence (clusters, node_pools, unseen_nodes, cluster_override, cluster_skus) reads instead of the JSON.
CREATE OR REPLACE TEMP TABLE cluster_payloads AS SELECT * FROM shaped_clusters([$scan_id]);
