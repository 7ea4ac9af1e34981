-- The tables of the open database: an empty file, an aks-upgrade-auditor store, or another tool's database.
SELECT table_name FROM information_schema.tables;
