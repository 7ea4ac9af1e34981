-- Every subscription's display name (Store.evaluate: what --subscription may name).
SELECT subscription_id, coalesce(display_name, '') FROM subscriptions ORDER BY subscription_id;
