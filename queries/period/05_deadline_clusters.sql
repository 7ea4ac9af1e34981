-- Each cluster as last seen in the period (tags, subscription, resource group), as the `clusters` table the
-- policy's scopes are matched against (model.cluster_params).
CREATE OR REPLACE TEMP TABLE clusters AS
SELECT arg_max(cluster_id, idx) AS cluster_id, arg_max(tag_pairs, idx) AS tag_pairs,
       arg_max(subscription_id, idx) AS subscription_id, arg_max(resource_group, idx) AS resource_group
FROM period_clusters GROUP BY cluster_key;
