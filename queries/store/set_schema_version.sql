-- Record the schema version a migration reached, in the migration's transaction.
INSERT OR REPLACE INTO auditor_meta VALUES ('schema_version', $version);
