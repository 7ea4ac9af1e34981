-- The last step of folding one scan ($scan_id) into the ledger: the merge by natural key of fold.sql's
-- and fold_overrides.sql's candidates. A candidate already there only bumps last_seen_scan_id and seen_count.
UPDATE upgrade_events SET last_seen_scan_id = $scan_id, seen_count = seen_count + 1
WHERE event_key IN (SELECT event_key FROM fold_candidates);

INSERT INTO upgrade_events BY NAME
SELECT * FROM fold_new_events WHERE event_key NOT IN (SELECT event_key FROM upgrade_events);

UPDATE upgrade_overrides SET last_seen_scan_id = $scan_id, seen_count = seen_count + 1
WHERE override_key IN (SELECT override_key FROM fold_override_candidates);

INSERT INTO upgrade_overrides BY NAME
SELECT * FROM fold_new_overrides WHERE override_key NOT IN (SELECT override_key FROM upgrade_overrides);
