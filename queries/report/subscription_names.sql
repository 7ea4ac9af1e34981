-- Subscription display names of the scan.
SELECT subscription_id, coalesce(display_name, '') FROM subscriptions
