-- Each fleet's auto-upgrade profiles with the strategy they use and their last trigger.
SELECT p.fleet_key, p.name, p.channel, s.name, p.disabled, p.node_image_selection, p.last_triggered_at,
       p.last_trigger_status, array_to_string(p.last_trigger_versions, ', '), p.target_kubernetes_version
FROM fleet_profiles p LEFT JOIN fleet_strategies s USING (strategy_key)
ORDER BY p.fleet_key, p.name
