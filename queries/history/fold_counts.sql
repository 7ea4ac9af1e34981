-- What the fold of $scan_id into the ledger found: its candidate events, and those new to upgrade_events.
SELECT
    (SELECT count(*) FROM fold_candidates) AS candidates,
    (SELECT count(*) FROM upgrade_events WHERE first_seen_scan_id = $scan_id) AS new_events;
