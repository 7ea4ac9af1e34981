-- The schema version the store is at (auditor_meta, created by the first migration).
SELECT value FROM auditor_meta WHERE key = 'schema_version';
