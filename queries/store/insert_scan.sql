-- The scan itself, written last in its transaction: a scan is committed when this row is.
INSERT INTO scans VALUES (
    $scan_id, $started_at, $finished_at, $status, $tool_version, $cloud, $endpoint, $scope, $stats, $evidence_sha256
);
