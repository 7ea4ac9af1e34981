-- patch_deadline_days per cluster, as the policy's scopes set it.
CREATE OR REPLACE TEMP TABLE period_deadlines AS
SELECT lower(cluster_id) AS cluster_key, patch_deadline_days AS deadline_days FROM cluster_params;
