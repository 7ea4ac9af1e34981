-- The stages of the runs $run_keys with their member counts: all, failed, skipped.
SELECT s.run_key, s.stage_name, s.state, s.start_time, s.completed_time, s.after_wait_seconds,
       count(m.member_name), count(*) FILTER (WHERE lower(m.state) = 'failed'),
       count(*) FILTER (WHERE lower(m.state) = 'skipped')
FROM fleet_run_stages s LEFT JOIN fleet_run_members m USING (run_key, stage_index)
WHERE s.run_key IN (SELECT unnest($run_keys::VARCHAR[]))
GROUP BY s.run_key, s.stage_index, s.stage_name, s.state, s.start_time, s.completed_time, s.after_wait_seconds
ORDER BY s.run_key, s.stage_index
