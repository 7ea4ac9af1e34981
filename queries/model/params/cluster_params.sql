-- One row per cluster with the thresholds in effect ($param_sets: one struct per combination of matching
-- scopes, merged by auditor/model/params.py), and the top-level thresholds ($defaults) for what belongs to no
-- cluster of the scan (a Fleet's update runs).
CREATE OR REPLACE TEMP TABLE cluster_params AS
SELECT m.cluster_id, p.s.scope_name, unnest(p.s.thresholds)
FROM cluster_scope_matches m
JOIN (SELECT unnest($param_sets) AS s) p ON p.s.matched = m.matched;

CREATE OR REPLACE TEMP TABLE policy_defaults AS SELECT unnest($defaults);

DROP TABLE cluster_scope_matches;
