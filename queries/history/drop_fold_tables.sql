-- The fold's working tables (fold.sql, fold_overrides.sql), dropped once the scans are folded.
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
