-- Mark a store as created by `auditor demo`, which may therefore replace it.
INSERT OR REPLACE INTO auditor_meta VALUES ('origin', $origin);
