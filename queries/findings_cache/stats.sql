-- The fleet figures kept with a cached evaluation: subscriptions, clusters, pools, node-image age median and p90.
SELECT (SELECT count(*) FROM subscriptions),
       (SELECT count(*) FROM clusters),
       (SELECT count(*) FROM node_pools),
       (SELECT quantile_cont(date_diff('day', image_date, (SELECT as_of FROM scan)), 0.5)
          FROM node_pools WHERE image_date IS NOT NULL),
       (SELECT quantile_cont(date_diff('day', image_date, (SELECT as_of FROM scan)), 0.9)
          FROM node_pools WHERE image_date IS NOT NULL)
