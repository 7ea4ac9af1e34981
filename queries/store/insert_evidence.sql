-- Bulk-load a scan's evidence spool (NDJSON, one item per line, written by EvidenceSpool) into evidence.
INSERT INTO evidence
SELECT $scan_id, seq, kind, scope, request, payload
FROM read_json(
    $spool_path,
    format = 'newline_delimited',
    columns = {'seq': 'INTEGER', 'kind': 'VARCHAR', 'scope': 'VARCHAR', 'request': 'VARCHAR', 'payload': 'VARCHAR'},
    maximum_object_size = 268435456
);
