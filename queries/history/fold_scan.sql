-- The first step of folding one committed scan ($scan_id) into the upgrade ledger (docs/history.md): the scan, its
-- cluster payloads and its snapshots, in fixed-name temp tables. Then the target's file adds the snapshots to the
-- target (fold_into_ledger_snapshots.sql or fold_into_as_of_snapshots.sql), fold.sql and fold_overrides.sql find
-- the candidates, and the target's merge file (fold_into_ledger.sql or fold_into_as_of.sql) writes them.
CREATE OR REPLACE TEMP TABLE fold_scan AS
SELECT scan_id, started_at FROM scans WHERE scan_id = $scan_id;

-- The scan's cluster payloads, parsed once as the model and the export read them (queries/shape/clusters.sql): the
-- snapshots below and the override sightings of fold_overrides.sql read them.
CREATE OR REPLACE TEMP TABLE fold_clusters AS SELECT * FROM shaped_clusters([$scan_id]);

-- 1. Snapshots (the columns of upgrade_snapshots): what scan diffs compare and what pool indexes are mapped with. A
-- pool's version is what runs (currentOrchestratorVersion), else what was asked for; a missing mode is User, as in
-- the model. The pools are read as queries/shape/pools.sql parses them (from fold_clusters: no second parse of the
-- payloads), in their order in agentPoolProfiles (an index of a resource change points into it); a cluster whose
-- agentPoolProfiles is not a list has none.
CREATE OR REPLACE TEMP TABLE fold_scan_snapshots AS
WITH pools AS (
    SELECT
        scan_id,
        seq,
        list({'name': name_text,
              'mode': coalesce(mode_text, 'User'),
              'version': coalesce(current_orchestrator_version_text, orchestrator_version_text),
              'image': node_image_text} ORDER BY pool_index) AS pools
    FROM (SELECT c.scan_id, c.seq, p.* FROM fold_clusters c, shaped_pool_entries(c.pools_json) p)
    GROUP BY scan_id, seq
)
SELECT
    c.scan_id,
    lower(c.cluster_id) AS cluster_id,
    s.started_at AS taken_at,
    c.name_text AS name,
    CASE WHEN c.tags_type = 'OBJECT' THEN c.tags_json ELSE '{}'::JSON END AS tags,
    coalesce(c.current_version_text, c.requested_version_text) AS control_plane_version,
    coalesce(p.pools, []) AS pools
FROM fold_clusters c
JOIN fold_scan s USING (scan_id)
LEFT JOIN pools p USING (scan_id, seq)
QUALIFY row_number() OVER (PARTITION BY lower(c.cluster_id) ORDER BY c.seq) = 1;
