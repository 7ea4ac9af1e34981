-- Schema version 4: the population a scan proved it covered (docs/coverage.md).
--
-- One row per subscription in the scan's scope: whether the subscription listing showed it, whether the identity
-- may read managed clusters there (the ARM permissions API), and the managed clusters of that subscription counted
-- twice: in Resource Graph (the evidence the controls read) and in the ARM managed-cluster list (one call per
-- subscription). Resource Graph silently leaves out what the identity cannot read; this table is where the gap
-- shows. Every row that is not 'complete' also has a collection_errors row, so the scan is `partial`.
-- The permissions and list responses are kept as evidence (kinds 'permissions', 'cluster_list'), so the table can
-- be re-performed from the evidence.
CREATE TABLE scan_coverage (
    scan_id           VARCHAR NOT NULL,
    subscription_id   VARCHAR NOT NULL,       -- lower case
    display_name      VARCHAR,
    in_scope_by       VARCHAR NOT NULL,       -- 'listing' (every readable subscription), 'subscription' (named with
                                              -- --subscription), 'management_group:<id>', 'resource_graph'
    listed            BOOLEAN NOT NULL,       -- shown by GET /subscriptions to this identity
    cluster_read      VARCHAR NOT NULL,       -- 'allowed' | 'denied' | 'unknown': Microsoft.ContainerService/
                                              -- managedClusters/read at subscription scope, per the permissions API
    graph_clusters    INTEGER NOT NULL,       -- managed clusters Resource Graph returned for this subscription
    arm_clusters      INTEGER,                -- managed clusters the ARM list returned; NULL when it failed or was refused
    missing_clusters  INTEGER,                -- in the ARM list but not in Resource Graph; NULL when unknown
    status            VARCHAR NOT NULL,       -- 'complete' | 'not_listed' | 'forbidden' | 'unreconciled' | 'error'
    note              VARCHAR NOT NULL,
    PRIMARY KEY (scan_id, subscription_id)
);
