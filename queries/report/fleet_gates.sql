-- The approval gates of the runs $run_keys.
SELECT run_key, stage_name, group_name, timing, display_name, state, approved_by, approved_at, gate_source
FROM fleet_run_gates
WHERE run_key IN (SELECT unnest($run_keys::VARCHAR[]))
ORDER BY run_key, stage_index, group_name NULLS FIRST, timing DESC, display_name
