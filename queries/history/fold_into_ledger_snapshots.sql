-- The second step of folding one scan into the ledger: its snapshots (fold_scan.sql) added
-- to upgrade_snapshots, and fold_snapshots, the view the rest of the fold reads them through.
INSERT INTO upgrade_snapshots BY NAME SELECT * FROM fold_scan_snapshots;

CREATE OR REPLACE TEMP VIEW fold_snapshots AS SELECT * FROM upgrade_snapshots;
