-- The collection errors of the scan (model table scan_errors).
SELECT call, scope, status, code, message FROM scan_errors ORDER BY call, scope
