-- The second step of folding one scan into the temp copies of the ledger as of a scan (as_of_copy.sql): its
-- snapshots (fold_scan.sql) added to as_of_snapshots, and fold_snapshots, the view the rest of the fold reads them
-- through.
INSERT INTO as_of_snapshots BY NAME SELECT * FROM fold_scan_snapshots;

CREATE OR REPLACE TEMP VIEW fold_snapshots AS SELECT * FROM as_of_snapshots;
