-- The store's own bookkeeping (the schema version), created with the first migration.
CREATE TABLE auditor_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
