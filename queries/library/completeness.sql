-- One scan's clusters and its collection errors per call (Store.completeness): what a gate needs to trust it.
SELECT
    (SELECT count(*) FROM evidence WHERE scan_id = $scan_id AND kind = 'cluster') AS clusters,
    (SELECT coalesce(list(struct_pack(call := call, errors := errors) ORDER BY call), [])
     FROM (SELECT call, count(*) AS errors FROM collection_errors WHERE scan_id = $scan_id GROUP BY call)) AS errors;
