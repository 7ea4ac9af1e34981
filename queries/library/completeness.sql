-- One scan's clusters and its collection errors per call (Store.completeness): what a gate needs to trust it. The
-- clusters are the scan's cluster payloads as queries/shape/clusters.sql reads them (one row each).
SELECT
    (SELECT count(*) FROM shaped_clusters([$scan_id])) AS clusters,
    (SELECT coalesce(list(struct_pack(call := call, errors := errors) ORDER BY call), [])
     FROM (SELECT call, count(*) AS errors FROM collection_errors WHERE scan_id = $scan_id GROUP BY call)) AS errors;
