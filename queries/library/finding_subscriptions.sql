-- The subscriptions an evaluation's findings name, with the display name they carry (a finding may name a
-- subscription the model's subscriptions table lacks: its id read from the resource id).
SELECT DISTINCT subscription_id, subscription_name FROM eval_findings WHERE subscription_id <> '' ORDER BY ALL;
