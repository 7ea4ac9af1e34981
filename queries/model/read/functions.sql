-- The model's Python functions already registered on this database (a cursor shares its database's functions).
SELECT DISTINCT function_name FROM duckdb_functions() WHERE list_contains($names::VARCHAR[], function_name);
