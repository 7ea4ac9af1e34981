-- The fold's working tables and view (fold_scan.sql, fold.sql, fold_overrides.sql, fold_into_*_snapshots.sql),
-- dropped once the scans are folded.
DROP VIEW IF EXISTS temp.fold_new_events;
DROP VIEW IF EXISTS temp.fold_new_overrides;
DROP TABLE IF EXISTS temp.fold_scan;
DROP TABLE IF EXISTS temp.fold_clusters;
DROP TABLE IF EXISTS temp.fold_changes;
DROP TABLE IF EXISTS temp.fold_rc;
DROP TABLE IF EXISTS temp.fold_se;
DROP TABLE IF EXISTS temp.fold_pairs;
DROP TABLE IF EXISTS temp.fold_sd;
DROP TABLE IF EXISTS temp.fold_fleet_members;
DROP TABLE IF EXISTS temp.fold_fr;
DROP TABLE IF EXISTS temp.fold_fg;
DROP TABLE IF EXISTS temp.fold_candidates;
DROP TABLE IF EXISTS temp.fold_override_candidates;
DROP TABLE IF EXISTS temp.fold_scan_snapshots;
DROP VIEW IF EXISTS temp.fold_snapshots;
