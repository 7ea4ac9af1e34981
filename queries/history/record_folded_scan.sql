-- Record that the ledger holds one scan now, with what its fold found ($new_events new, $seen_events seen again).
INSERT INTO upgrade_ledger_scans VALUES ($scan_id, $started_at, $folded_at, $new_events, $seen_events);
